"""Bad input against a real collector: each problem gets a clear error or a partial success,
and the valid spans of the same request are stored."""

from __future__ import annotations

import gzip
import http.client
import uuid
from collections.abc import Iterator

import grpc
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from helpers import CollectorProcess
from loadgen import EXPORT, make_request, post

PROTOBUF = {"Content-Type": "application/x-protobuf"}
MARK = "BADUTF8MARK"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    process = CollectorProcess(
        tmp_path_factory.mktemp("limited") / "data",
        "--max-spans-per-request",
        "50",
        "--max-attribute-chars",
        "100",
    )
    yield process
    process.stop()


def mixed_request(service: str) -> tuple[bytes, dict[str, str]]:
    """Six spans: two that must be rejected, three that are stored with changes, one clean."""
    request = make_request(1, 6, service)
    spans = request.resource_spans[0].scope_spans[0].spans
    ids = {
        name: spans[i].span_id.hex()
        for i, name in enumerate(["utf8", "event", "long", "many", "tokens", "ok"])
    }
    spans[0].name = MARK  # becomes invalid UTF-8 on the wire
    spans[1].events.add(name="e", time_unix_nano=2**64 - 1)  # past what DateTime64(9) holds
    spans[2].attributes.append(KeyValue(key="gen_ai.prompt", value=AnyValue(string_value="p" * 5000)))
    for i in range(400):
        spans[3].attributes.append(KeyValue(key=f"extra.{i}", value=AnyValue(int_value=i)))
    for kv in spans[4].attributes:
        if kv.key == "gen_ai.usage.input_tokens":
            kv.value.int_value = -5
    body = request.SerializeToString().replace(MARK.encode(), b"\xff" * len(MARK))
    return body, ids


def check_stored(collector: CollectorProcess, service: str, ids: dict[str, str]) -> None:
    rows = {
        row["SpanId"]: row
        for row in collector.sql(
            "SELECT SpanId, length(SpanAttributes) AS attributes,"
            " length(SpanAttributes['gen_ai.prompt']) AS prompt FROM otel_traces"
            " WHERE ServiceName = {service:String}",
            {"service": service},
        )
    }
    assert set(rows) == {ids["long"], ids["many"], ids["tokens"], ids["ok"]}
    assert rows[ids["long"]]["prompt"] == 100
    assert rows[ids["many"]]["attributes"] == 256
    tokens = {
        row["SpanId"]: row["InputTokens"]
        for row in collector.sql(
            "SELECT SpanId, InputTokens FROM agent_steps WHERE ServiceName = {service:String}",
            {"service": service},
        )
    }
    assert tokens[ids["tokens"]] == 0 and tokens[ids["ok"]] == 10


def check_reply(reply: ExportTraceServiceResponse, ids: dict[str, str]) -> None:
    assert reply.partial_success.rejected_spans == 2
    message = reply.partial_success.error_message
    assert "UTF-8" in message and "event time_unix_nano" in message
    assert "truncated to 100 characters" in message
    assert "attribute(s) over the limit of 256 dropped" in message
    assert "gen_ai.usage.input_tokens is not a token count" in message


def test_mixed_bad_spans_over_grpc(limited: CollectorProcess) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    body, ids = mixed_request(service)
    with grpc.insecure_channel(limited.grpc_endpoint) as channel:
        export = channel.unary_unary(EXPORT, response_deserializer=ExportTraceServiceResponse.FromString)
        reply = export(body, timeout=30)
    check_reply(reply, ids)
    check_stored(limited, service, ids)


def test_mixed_bad_spans_over_http_gzip(limited: CollectorProcess) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    body, ids = mixed_request(service)
    status, _, payload = post(
        f"{limited.http_url}/v1/traces", gzip.compress(body), {**PROTOBUF, "Content-Encoding": "gzip"}
    )
    assert status == 200
    check_reply(ExportTraceServiceResponse.FromString(payload), ids)
    check_stored(limited, service, ids)


def test_too_many_spans_in_one_request(limited: CollectorProcess) -> None:
    body = make_request(2, 51, "svc-big").SerializeToString()
    status, _, payload = post(f"{limited.http_url}/v1/traces", body, PROTOBUF)
    assert status == 413
    assert "51 spans, over the limit of 50" in status_pb2.Status.FromString(payload).message
    with grpc.insecure_channel(limited.grpc_endpoint) as channel:
        export = channel.unary_unary(EXPORT)
        with pytest.raises(grpc.RpcError) as caught:
            export(body, timeout=30)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "google.rpc.retryinfo-bin" not in dict(caught.value.trailing_metadata() or ())  # do not retry


def test_gzip_bomb_is_refused_early(limited: CollectorProcess) -> None:
    bomb = gzip.compress(b"\x00" * (80 * 1024 * 1024), compresslevel=9)  # 80 MiB over a 64 MiB limit
    status, _, payload = post(f"{limited.http_url}/v1/traces", bomb, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert status == 413
    assert "decompressed body is over" in status_pb2.Status.FromString(payload).message


def test_body_over_the_size_limit_is_413_before_it_is_read(limited: CollectorProcess) -> None:
    host, port = limited.http_url.rsplit("/", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("POST", "/v1/traces")
        connection.putheader("Content-Type", "application/x-protobuf")
        connection.putheader("Content-Length", str(64 * 1024 * 1024 + 1))
        connection.endheaders()  # the body never comes: the size alone is refused
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_every_span_bad_is_a_partial_success_with_all_rejected(limited: CollectorProcess) -> None:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    scope.spans.add(trace_id=b"\x01" * 3, span_id=b"\x01" * 8, name="short trace id")
    scope.spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="too old", start_time_unix_nano=5)
    status, _, payload = post(f"{limited.http_url}/v1/traces", request.SerializeToString(), PROTOBUF)
    assert status == 200
    reply = ExportTraceServiceResponse.FromString(payload)
    assert reply.partial_success.rejected_spans == 2
    assert "trace_id must be 16 bytes, got 3" in reply.partial_success.error_message
    assert "out of range" in reply.partial_success.error_message
