"""Routing: a collector configured by YAML forwards every request unchanged to other OTLP
receivers (a recording gRPC server and a second real collector over OTLP/HTTP), and a down
backend never holds up the ClickHouse path."""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from helpers import WAIT_S, CollectorProcess, RecordingReceiver, make_request, send, write_config


def span_ids(request: ExportTraceServiceRequest) -> set[str]:
    return {s.span_id.hex() for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans}


@pytest.fixture(scope="module")
def recorder() -> Iterator[RecordingReceiver]:
    receiver = RecordingReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def downstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    process = CollectorProcess(tmp_path_factory.mktemp("downstream") / "data")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def forwarding(
    tmp_path_factory: pytest.TempPathFactory, recorder: RecordingReceiver, downstream: CollectorProcess
) -> Iterator[CollectorProcess]:
    root = tmp_path_factory.mktemp("forwarding")
    config = write_config(
        root / "collector.yaml",
        {
            "otlp/recorder": {
                "endpoint": f"127.0.0.1:{recorder.port}",
                "tls": {"insecure": True},
                "retry_on_failure": {"initial_interval": "100ms", "max_interval": "1s"},
            },
            "otlphttp/downstream": {
                "endpoint": "${env:DOWNSTREAM_URL}",
                "compression": "gzip",
                "retry_on_failure": {"initial_interval": "100ms", "max_interval": "1s"},
            },
        },
    )
    os.environ["DOWNSTREAM_URL"] = downstream.http_url
    try:
        process = CollectorProcess(root / "data", "--config", str(config))
    finally:
        del os.environ["DOWNSTREAM_URL"]
    yield process
    process.stop()


def test_every_span_arrives_unchanged_over_grpc_and_http(
    forwarding: CollectorProcess, recorder: RecordingReceiver, downstream: CollectorProcess
) -> None:
    requests = [make_request(i) for i in range(12)]
    for request in requests:
        send(forwarding, request)
    bodies = recorder.wait_for(len(requests))
    assert sorted(bodies) == sorted(r.SerializeToString() for r in requests)  # byte-equal requests

    expected = set().union(*(span_ids(r) for r in requests))
    deadline = time.monotonic() + WAIT_S
    rows: list[dict] = []
    while time.monotonic() < deadline:
        rows = downstream.sql(
            "SELECT SpanId, TraceId, SpanName, Timestamp, Duration, SpanAttributes['request.index'] AS idx "
            "FROM otel_traces WHERE ServiceName = 'fwd-test'"
        )
        if len(rows) >= len(expected):
            break
        time.sleep(0.1)
    assert {r["SpanId"] for r in rows} == expected
    primary = forwarding.sql(
        "SELECT SpanId, TraceId, SpanName, Timestamp, Duration, SpanAttributes['request.index'] AS idx "
        "FROM otel_traces WHERE ServiceName = 'fwd-test'"
    )
    key = lambda r: r["SpanId"]  # noqa: E731
    assert sorted(rows, key=key) == sorted(primary, key=key)  # same rows on both sides
    steps = downstream.sql("SELECT count() AS n FROM agent_steps WHERE ServiceName = 'fwd-test'")
    assert steps == [{"n": len(expected)}]
    metrics = urllib.request.urlopen(f"{forwarding.http_url}/metrics", timeout=10).read().decode()
    assert "spanhouse_forwarder_otlp_recorder_sent_total 12" in metrics


def test_down_backend_does_not_block_the_clickhouse_path(tmp_path: Path) -> None:
    blackhole = socket.socket()  # accepts connections, never answers
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(64)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    config = write_config(
        tmp_path / "collector.yaml",
        {
            "otlphttp/slow": {
                "endpoint": f"http://127.0.0.1:{blackhole.getsockname()[1]}",
                "timeout": "20s",
                "sending_queue": {"queue_size": 2},
            },
            "otlp/down": {
                "endpoint": f"127.0.0.1:{closed.getsockname()[1]}",
                "tls": {"insecure": True},
                "sending_queue": {"queue_size": 2},
                "retry_on_failure": {"initial_interval": "5s", "max_interval": "30s"},
            },
        },
    )
    process = CollectorProcess(tmp_path / "data", "--config", str(config))
    try:
        requests = [make_request(i, spans=2) for i in range(10)]
        for request in requests:
            send(process, request)  # each ack within WAIT_S, or the test fails
        [row] = process.sql("SELECT count() AS n FROM otel_traces WHERE ServiceName = 'fwd-test'")
        assert row["n"] == 20
        metrics = urllib.request.urlopen(f"{process.http_url}/metrics", timeout=10).read().decode()
        dropped = {
            line.split()[0]: int(line.split()[1])
            for line in metrics.splitlines()
            if line.startswith("spanhouse_forwarder_") and "_dropped_total" in line
        }
        # 10 requests into queues of 2 (one more in flight): the oldest ones were dropped
        assert dropped["spanhouse_forwarder_otlphttp_slow_dropped_total"] >= 7
        assert dropped["spanhouse_forwarder_otlp_down_dropped_total"] >= 7
    finally:
        process.stop()
        blackhole.close()
        closed.close()
