"""Rows built in worker processes are the rows built in the receiving process: two collectors,
one with --workers 2 and one without, get the same requests (GenAI spans, a bad span, a score
span) and answer and store the same; a worker that dies costs its clients one retry, nothing else."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from helpers import CollectorProcess, make_request
from loadgen import post

SPANS = 40


def _requests() -> list[ExportTraceServiceRequest]:
    made = [make_request(n, SPANS, {"gen_ai.response.model": "gpt-4o-mini"}) for n in range(6)]
    bad = made[2].resource_spans[0].scope_spans[0].spans[3]
    bad.span_id = b"\x00" * 8  # rejected: partial success
    score = made[4].resource_spans[0].scope_spans[0].spans[0]
    score.name = "spanhouse.score"
    score.attributes.extend(
        [
            KeyValue(key="spanhouse.scoring.value", value=AnyValue(double_value=0.75)),
            KeyValue(key="spanhouse.scoring.name", value=AnyValue(string_value="helpful")),
            KeyValue(key="spanhouse.scoring.run_id", value=AnyValue(string_value="run-1")),
        ]
    )
    return made


@pytest.fixture(scope="module")
def collectors(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[CollectorProcess, CollectorProcess]]:
    root = Path(tmp_path_factory.mktemp("workers"))
    pooled = CollectorProcess(root / "pooled", "--workers", "2")
    local = CollectorProcess(root / "local")
    try:
        yield pooled, local
    finally:
        pooled.stop()
        local.stop()


def _send(collector: CollectorProcess, request: ExportTraceServiceRequest) -> tuple[int, bytes]:
    status, _, body = post(
        f"{collector.http_url}/v1/traces",
        request.SerializeToString(),
        {"Content-Type": "application/x-protobuf"},
    )
    return status, body


def _stored(collector: CollectorProcess, table: str) -> list[dict[str, Any]]:
    return collector.sql(f"SELECT * FROM {table} ORDER BY ALL")


def test_workers_answer_and_store_what_the_receiving_process_does(collectors) -> None:
    pooled, local = collectors
    for request in _requests():
        assert _send(pooled, request) == _send(local, request)
    for table in ("otel_traces", "agent_steps", "scores"):
        pooled_rows, local_rows = _stored(pooled, table), _stored(local, table)
        assert pooled_rows == local_rows
        assert pooled_rows, f"nothing stored in {table}"
    [(n,)] = [tuple(r.values()) for r in pooled.sql("SELECT count() AS n FROM otel_traces")]
    assert n == 6 * SPANS - 1  # the bad span was refused, the rest stored


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc/*/stat: field 4 is the parent pid)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # a process that ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_worker_that_dies_costs_one_retry(collectors) -> None:
    pooled, _ = collectors
    workers = _workers(pooled)
    assert workers, "no worker process found"
    for child in workers:
        os.kill(child, signal.SIGKILL)
    request = make_request(100, SPANS, {"request.index": "retry"})
    deadline = time.monotonic() + 60
    statuses = []
    while time.monotonic() < deadline:
        status, _ = _send(pooled, request)
        statuses.append(status)
        if status == 200:
            break
        assert status == 503
        time.sleep(0.5)
    assert statuses[-1] == 200, statuses
    rows = pooled.sql("SELECT count() AS n FROM otel_traces WHERE SpanAttributes['request.index'] = 'retry'")
    assert rows[0]["n"] == SPANS


def test_workers_exit_when_their_collector_is_killed(tmp_path: Path) -> None:
    """kill -9 of the collector leaves no worker behind."""
    collector = CollectorProcess(tmp_path / "data", "--workers", "2")
    try:
        for n in range(4):  # a worker process starts with its first request
            assert _send(collector, make_request(n, 3))[0] == 200
        workers = _workers(collector)
        assert workers, "no worker process found"
    finally:
        collector.stop(signal.SIGKILL)
    deadline = time.monotonic() + 30
    while alive := [pid for pid in workers if _running(pid)]:
        assert time.monotonic() < deadline, f"workers {alive} outlived their collector"
        time.sleep(0.2)


def _workers(collector: CollectorProcess) -> list[int]:
    return [
        child
        for child in _children(collector.process.pid)
        if "spawn" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
    ]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
