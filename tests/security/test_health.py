"""/healthz answers 503 with the reason once the store has refused inserts for longer than the
configured time, and 200 (naming the failure) before that."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from helpers import CollectorProcess, make_request, send
from spanhouse.collector.api.health import health_handler
from spanhouse.collector.httpserver import Request


@dataclass
class Inserts:
    failing_since: float | None = None
    last_error: str | None = None


def healthz(inserts: Inserts, unhealthy_after_s: float) -> tuple[int, dict]:
    response = health_handler(None, inserts, unhealthy_after_s)(Request("GET", "/healthz", "", {}, b""))
    return response.status, json.loads(response.body)


def test_failing_inserts_turn_health_to_503_only_past_the_limit() -> None:
    assert healthz(Inserts(), 60.0) == (200, {"status": "ok", "store": ""})
    recent = Inserts(time.monotonic(), "ClickHouse at http://ch:8123 is unreachable")
    status, document = healthz(recent, 60.0)
    assert status == 200 and "failing for" in document["inserts"] and "unreachable" in document["inserts"]
    old = Inserts(time.monotonic() - 120, "Code: 241. MEMORY_LIMIT_EXCEEDED")
    status, document = healthz(old, 60.0)
    assert status == 503 and document["status"] == "unhealthy"
    assert "inserts have failed for 12" in document["reason"] and "the limit is 60 s" in document["reason"]
    assert "MEMORY_LIMIT_EXCEEDED" in document["reason"]


def test_a_collector_whose_inserts_fail_says_why(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: every insert fails
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = CollectorProcess(
        tmp_path / "data",
        *("--clickhouse-url", f"http://127.0.0.1:{port}", "--unhealthy-after", "0.5"),
        *("--drain-timeout", "1"),  # the store never comes back: no use draining at the stop
    )
    try:
        send(collector, make_request(1, 2))  # accepted into the WAL
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{collector.http_url}/healthz", timeout=10)
                status, document = 200, {}
            except urllib.error.HTTPError as exc:
                status, document = exc.code, json.loads(exc.read())
            if "inserts have failed" in document.get("reason", "") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == 503, document
        assert "inserts have failed for" in document["reason"] and f"127.0.0.1:{port}" in document["reason"]
    finally:
        collector.stop()
