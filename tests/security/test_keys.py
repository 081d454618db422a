"""API keys at rest as SHA-256 digests; plain-text keys still work with a warning; every key is
compared, in constant time; no key ever reaches the log."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

from helpers import CollectorProcess
from loadgen import make_request, post
from spanhouse.collector.auth import ApiKeys, hash_key
from spanhouse.collector.errors import ConfigError, Unauthenticated
from workloads import emit_runs

KEY_A = "key-a-" + "0123456789abcdef" * 2
KEY_B = "key-b-" + "fedcba9876543210" * 2
KEY_OPERATOR = "key-op-" + "0011223344556677" * 2


def test_keys_hash_prints_the_digest_the_key_file_takes() -> None:
    for args, stdin in (([KEY_A], None), ([], KEY_A + "\n")):
        done = subprocess.run(
            [sys.executable, "-m", "spanhouse.collector", "keys", "hash", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "sha256:" + hashlib.sha256(KEY_A.encode()).hexdigest()
    short = subprocess.run(
        [sys.executable, "-m", "spanhouse.collector", "keys", "hash", "short"], capture_output=True, text=True
    )
    assert short.returncode == 2 and "at least 16" in short.stderr


def test_keys_new_prints_a_key_and_the_line_that_accepts_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "spanhouse.collector", "keys", "new", "--tenant", "acme"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.split("key: ", 1)[1].split()[0]
    digest = hash_key(key)
    assert f"{digest}: acme" in done.stdout
    assert ApiKeys({digest: "acme"}).tenant_for({"x-api-key": key}) == "acme"


def test_digests_and_plain_keys_map_to_their_tenants(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="spanhouse.collector.auth"):
        keys = ApiKeys(
            {hash_key(KEY_A): "tenant-a", hash_key(KEY_B).upper().replace("SHA256:", "sha256:"): "tenant-b"}
        )
    assert "plain text" not in caplog.text
    assert keys.tenant_for({"authorization": f"Bearer {KEY_A}"}) == "tenant-a"
    assert keys.tenant_for({"x-api-key": KEY_B}) == "tenant-b"
    with pytest.raises(Unauthenticated):
        keys.tenant_for({"x-api-key": hash_key(KEY_A)})  # the digest itself is not a key
    with caplog.at_level(logging.WARNING, logger="spanhouse.collector.auth"):
        mixed = ApiKeys({KEY_A: "tenant-a", hash_key(KEY_B): "tenant-b"})
    assert "1 API key(s) are stored in plain text" in caplog.text and "spanhouse keys hash" in caplog.text
    assert KEY_A not in caplog.text
    assert mixed.tenant_for({"x-api-key": KEY_A}) == "tenant-a"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"sha256:abc": "t"}, "64 hex digits"),
        ({"short": "t"}, "shorter than 16"),
        ({KEY_A: "t1", hash_key(KEY_A): "t2"}, "both tenant"),
        ({KEY_A: "bad tenant"}, "tenant id"),
    ],
)
def test_a_bad_key_file_entry_names_what_is_wrong(keys: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ApiKeys(keys)


def test_every_key_is_compared_whichever_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = ApiKeys({hash_key(f"{KEY_A}-{i}"): f"t{i}" for i in range(20)})
    compared = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(a)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    for i in (0, 19):
        compared.clear()
        assert keys.tenant_for({"x-api-key": f"{KEY_A}-{i}"}) == f"t{i}"
        assert len(compared) == 20  # no early exit: the time taken does not tell which key matched
    compared.clear()
    with pytest.raises(Unauthenticated):
        keys.tenant_for({"x-api-key": "not-a-key-0000000000000"})
    assert len(compared) == 20


def test_a_collector_with_digests_in_its_key_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(
        f"api_keys:\n  {hash_key(KEY_A)}: tenant-a\n  {hash_key(KEY_OPERATOR)}: '*'\n  {KEY_B}: tenant-b\n"
    )
    collector = CollectorProcess(tmp_path / "data", "--api-keys", str(keys))
    try:
        sent_a, _ = emit_runs(
            HttpExporter(endpoint=f"{collector.http_url}/v1/traces", headers={"x-api-key": KEY_A}), 1
        )
        sent_b, _ = emit_runs(
            HttpExporter(endpoint=f"{collector.http_url}/v1/traces", headers={"x-api-key": KEY_B}), 1
        )
        status, _, _ = post(
            f"{collector.http_url}/v1/traces",
            make_request(1, 1, "digest-probe").SerializeToString(),
            {"Content-Type": "application/x-protobuf", "x-api-key": hash_key(KEY_A)},  # a digest is no key
        )
        assert status == 401
        counted = "SELECT Tenant, count() AS n FROM otel_traces WHERE ServiceName IN {s:Array(String)} GROUP BY Tenant ORDER BY Tenant"
        expected = [{"Tenant": "tenant-a", "n": sent_a.spans}, {"Tenant": "tenant-b", "n": sent_b.spans}]
        deadline = time.monotonic() + 30
        while (rows := operator_sql(collector, counted, {"s": [sent_a.service, sent_b.service]})) != expected:
            assert time.monotonic() < deadline, rows
            time.sleep(0.05)
    finally:
        collector.stop()
    log = collector.log_path.read_text()
    assert "1 API key(s) are stored in plain text" in log  # KEY_B
    for secret in (KEY_A, KEY_B, KEY_OPERATOR):
        assert secret not in log


def operator_sql(collector: CollectorProcess, query: str, parameters: dict) -> list[dict]:
    body = json.dumps({"query": query, "parameters": parameters}).encode()
    request = urllib.request.Request(
        f"{collector.http_url}/v1/sql", body, {"x-api-key": KEY_OPERATOR}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        document = json.loads(response.read())
    return [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]
