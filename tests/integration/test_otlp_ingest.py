"""Spans sent by the real OTel SDK exporters land in ClickHouse exactly, over every transport."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from helpers import CollectorProcess
from workloads import Expected, emit_runs


def assert_stored(collector: CollectorProcess, expected: Expected) -> None:
    service = {"service": expected.service}
    rows = collector.sql(
        "SELECT SpanId, ParentSpanId, Duration, StatusCode FROM otel_traces WHERE ServiceName = {service:String}",
        service,
    )
    assert len(rows) == expected.spans
    assert {r["SpanId"]: r["Duration"] for r in rows} == expected.durations_ns
    assert {r["SpanId"]: r["ParentSpanId"] for r in rows} == expected.parents
    assert sum(r["StatusCode"] == "Error" for r in rows) == expected.errors
    [steps] = collector.sql(
        "SELECT count() AS n, sum(InputTokens + CachedInputTokens + CacheWriteTokens) AS input,"
        " sum(OutputTokens + ReasoningTokens) AS output, countIf(ErrorType = 'timeout_error') AS timeouts,"
        " countIf(StepKind = 'agent') AS agents, countIf(CostUSD IS NULL AND IsModelCall) AS unpriced"
        " FROM agent_steps WHERE ServiceName = {service:String}",
        service,
    )
    assert steps == {
        "n": expected.spans,
        "input": expected.input_tokens,
        "output": expected.output_tokens,
        "timeouts": expected.errors,
        "agents": expected.spans // 4,
        "unpriced": 0,
    }


def test_grpc_exporter_spans_land_exactly(collector: CollectorProcess) -> None:
    exporter = GrpcExporter(endpoint=f"http://{collector.grpc_endpoint}", insecure=True)
    expected, _ = emit_runs(exporter, 30)
    assert_stored(collector, expected)


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_http_protobuf_exporter_spans_land_exactly(
    collector: CollectorProcess, compression: Compression
) -> None:
    exporter = HttpExporter(endpoint=f"{collector.http_url}/v1/traces", compression=compression)
    expected, _ = emit_runs(exporter, 30)
    assert_stored(collector, expected)


def otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON as the JavaScript exporters write it: hex ids, integer enums, string int64s."""
    document = json_format.MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in document["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return json.dumps(document).encode()


def post(url: str, body: bytes, headers: dict[str, str], *, chunked: bool = False) -> tuple[int, dict, bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    if chunked:
        connection.putrequest("POST", parts.path)
        for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            connection.putheader(name, value)
        connection.endheaders()
        for start in range(0, len(body), 1000):
            piece = body[start : start + 1000]
            connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        connection.send(b"0\r\n\r\n")
    else:
        connection.request("POST", parts.path, body, headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), payload


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_http_json_bodies_land_exactly(collector: CollectorProcess, chunked: bool, gzipped: bool) -> None:
    expected, spans = emit_runs(InMemorySpanExporter(), 12)
    body = otlp_json(encode_spans(spans))
    headers = {"Content-Type": "application/json"}
    if gzipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    status, response_headers, payload = post(
        f"{collector.http_url}/v1/traces", body, headers, chunked=chunked
    )
    assert status == 200, payload
    assert response_headers["Content-Type"] == "application/json"
    assert json.loads(payload) == {}  # full success: partial_success unset
    assert_stored(collector, expected)


def span_count(collector: CollectorProcess) -> int:
    return collector.sql("SELECT count() AS n FROM otel_traces")[0]["n"]


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("application/x-protobuf", b"\xff\xff\xff\xff not protobuf", "not a valid ExportTraceServiceRequest"),
        ("application/json", b'{"resourceSpans": [', "not valid JSON"),
        (
            "application/json",
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
            "not a hex",
        ),
    ],
)
def test_malformed_http_body_is_400_and_stores_nothing(
    collector: CollectorProcess, content_type: str, body: bytes, reason: str
) -> None:
    before = span_count(collector)
    status, headers, payload = post(f"{collector.http_url}/v1/traces", body, {"Content-Type": content_type})
    assert status == 400
    assert headers["Content-Type"] == content_type
    if content_type == "application/json":
        message = json.loads(payload)["message"]
    else:
        message = status_pb2.Status.FromString(payload).message
    assert reason in message
    assert span_count(collector) == before


def test_unsupported_content_type_is_415(collector: CollectorProcess) -> None:
    status, _, payload = post(f"{collector.http_url}/v1/traces", b"x", {"Content-Type": "text/plain"})
    assert status == 415
    assert b"application/x-protobuf" in payload


def test_malformed_grpc_message_is_invalid_argument(collector: CollectorProcess) -> None:
    before = span_count(collector)
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        export = channel.unary_unary(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            request_serializer=None,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        with pytest.raises(grpc.RpcError) as caught:
            export(b"\xff\xff\xff\xff garbage", timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ExportTraceServiceRequest" in caught.value.details()
    assert span_count(collector) == before


def test_bad_span_is_rejected_with_partial_success_and_the_rest_stored(collector: CollectorProcess) -> None:
    expected, spans = emit_runs(InMemorySpanExporter(), 2)
    request = encode_spans(spans)
    bad = request.resource_spans[0].scope_spans[0].spans.add()
    bad.CopyFrom(request.resource_spans[0].scope_spans[0].spans[0])
    bad.trace_id = b"\x01\x02\x03"  # 3 bytes instead of 16
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        export = channel.unary_unary(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            request_serializer=ExportTraceServiceRequest.SerializeToString,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        reply = export(request, timeout=10)
    assert reply.partial_success.rejected_spans == 1
    assert "trace_id must be 16 bytes, got 3" in reply.partial_success.error_message
    assert_stored(collector, expected)


def test_health_and_metrics_report_what_happened(collector: CollectorProcess) -> None:
    expected, _ = emit_runs(HttpExporter(endpoint=f"{collector.http_url}/v1/traces"), 3)
    with urllib.request.urlopen(f"{collector.http_url}/healthz", timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"
    with urllib.request.urlopen(f"{collector.http_url}/metrics", timeout=10) as response:
        metrics = dict(
            line.rsplit(" ", 1) for line in response.read().decode().splitlines() if not line.startswith("#")
        )
    stored = span_count(collector)
    assert int(metrics["spanhouse_exporter_spans_total"]) == stored
    assert int(metrics["spanhouse_receiver_spans_total"]) >= stored + 0 * expected.spans


def test_sql_endpoint_is_read_only(collector: CollectorProcess) -> None:
    request = urllib.request.Request(
        f"{collector.http_url}/v1/sql",
        json.dumps({"query": "DROP TABLE otel_traces"}).encode(),
        {"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400
    assert "only one SELECT" in json.loads(caught.value.read())["error"]
    exists = (
        "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'otel_traces'"
    )
    assert collector.sql(exists)[0]["n"] == 1
