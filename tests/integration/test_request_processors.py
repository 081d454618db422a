"""Attribute filters, redaction and sampling configured in YAML, through a real collector:
what is stored in otel_traces and agent_steps, and what is forwarded, is the processed data."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from helpers import CollectorProcess, RecordingReceiver, make_request, send, write_config

EMAIL = "jane.doe@example.com"
API_KEY = "sk-proj-abcdefghijklmnopqrstuvwx"
MESSAGES = json.dumps(
    [{"role": "user", "parts": [{"type": "text", "content": f"mail {EMAIL} key {API_KEY}"}]}]
)
TRACES = 40


@pytest.fixture(scope="module")
def recorder() -> Iterator[RecordingReceiver]:
    receiver = RecordingReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory, recorder: RecordingReceiver) -> Iterator[tuple]:
    root = tmp_path_factory.mktemp("processors")
    config = write_config(
        root / "collector.yaml",
        {"otlp/recorder": {"endpoint": f"127.0.0.1:{recorder.port}", "tls": {"insecure": True}}},
        processors={
            "attributes/drop": {"exclude": ["secret.*"]},
            "redaction": {
                "blocked_values": [
                    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
                    r"sk-[A-Za-z0-9_-]{16,}",
                ],
                "blocked_key_patterns": ["(?i)password"],
            },
            "probabilistic_sampler": {"sampling_percentage": 50, "keep_errors": True},
        },
    )
    process = CollectorProcess(root / "data", "--config", str(config))
    requests = [
        make_request(
            i,
            attributes={
                "secret.token": "t0p",
                "user.note": f"contact {EMAIL} please",
                "db.password": "hunter2",
                "gen_ai.input.messages": MESSAGES,
            },
        )
        for i in range(TRACES)
    ]
    for request in requests:
        send(process, request)
    yield process, requests
    process.stop()


def _kept(trace_id: bytes) -> bool:
    return int.from_bytes(trace_id[-7:], "big") < (1 << 56) // 2


def test_sampling_keeps_whole_traces_by_trace_id_and_every_error_span(processed: tuple) -> None:
    process, requests = processed
    rows = process.sql("SELECT TraceId, SpanId, StatusCode FROM otel_traces WHERE ServiceName = 'fwd-test'")
    stored = {r["SpanId"] for r in rows}
    expected = set()
    for request in requests:
        for span in request.resource_spans[0].scope_spans[0].spans:
            if _kept(span.trace_id) or span.status.code == Status.STATUS_CODE_ERROR:
                expected.add(span.span_id.hex())
    assert stored == expected
    kept_traces = sum(_kept(r.resource_spans[0].scope_spans[0].spans[0].trace_id) for r in requests)
    assert 0 < kept_traces < TRACES  # a real mix of kept and dropped traces
    errors_of_dropped = [
        r for r in rows if r["StatusCode"] == "Error" and not _kept(bytes.fromhex(r["TraceId"]))
    ]
    assert errors_of_dropped  # error spans of sampled-out traces were kept
    metrics = urllib.request.urlopen(f"{process.http_url}/metrics", timeout=10).read().decode()
    sampled_out = 3 * TRACES - len(expected)
    assert f"spanhouse_processor_spans_sampled_out_total {sampled_out}" in metrics.splitlines()


def test_filtered_and_redacted_in_both_tables(processed: tuple) -> None:
    process, _ = processed
    [traces] = process.sql(
        "SELECT count() AS n, countIf(mapContains(SpanAttributes, 'secret.token')) AS secret,"
        " countIf(SpanAttributes['user.note'] = 'contact [REDACTED] please') AS note,"
        " countIf(SpanAttributes['db.password'] = '[REDACTED]') AS password,"
        " countIf(position(SpanAttributes['gen_ai.input.messages'], 'example.com') > 0"
        "   OR position(SpanAttributes['gen_ai.input.messages'], 'sk-proj') > 0) AS leaked,"
        " countIf(position(SpanAttributes['gen_ai.input.messages'], 'mail [REDACTED] key [REDACTED]') > 0) AS msgs"
        " FROM otel_traces WHERE ServiceName = 'fwd-test'"
    )
    n = traces["n"]
    assert n > 0
    assert traces == {"n": n, "secret": 0, "note": n, "password": n, "leaked": 0, "msgs": n}
    [steps] = process.sql(
        "SELECT count() AS n, countIf(mapContains(Attributes, 'secret.token')) AS secret,"
        " countIf(arrayExists(v -> position(v, 'example.com') > 0 OR position(v, 'sk-proj') > 0"
        "   OR v = 'hunter2', mapValues(Attributes))) AS leaked,"
        " countIf(Attributes['user.note'] = 'contact [REDACTED] please') AS note"
        " FROM agent_steps WHERE ServiceName = 'fwd-test'"
    )
    assert steps == {"n": n, "secret": 0, "leaked": 0, "note": n}


def test_forwarded_requests_are_the_processed_ones(processed: tuple, recorder: RecordingReceiver) -> None:
    process, _ = processed
    [row] = process.sql("SELECT count() AS n FROM otel_traces WHERE ServiceName = 'fwd-test'")
    deadline = time.monotonic() + 30
    forwarded: list = []
    while time.monotonic() < deadline:
        forwarded = [
            span
            for body in recorder.bodies
            for rs in ExportTraceServiceRequest.FromString(body).resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]
        if len(forwarded) >= row["n"]:
            break
        time.sleep(0.05)
    assert len(forwarded) == row["n"]
    for span in forwarded:
        attrs = {kv.key: kv.value.string_value for kv in span.attributes}
        assert "secret.token" not in attrs and attrs["db.password"] == "[REDACTED]"
        assert EMAIL not in attrs["user.note"] and API_KEY not in attrs["gen_ai.input.messages"]


def test_invalid_config_fails_the_command_with_the_key_path(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "processors: {probabilistic_sampler: {sampling_percentage: 200}}\n"
        "service: {pipelines: {traces: {processors: [probabilistic_sampler]}}}\n"
    )
    with pytest.raises(RuntimeError) as info:
        CollectorProcess(tmp_path / "data", "--config", str(config))
    message = " ".join(str(info.value).split())  # the console wraps long lines
    assert "processors.probabilistic_sampler.sampling_percentage: 200.0 must be between 0 and 100" in message
