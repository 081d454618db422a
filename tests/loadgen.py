"""Numbered OTLP requests with known contents, and a client that records which were acknowledged.

Request n holds `spans` chat spans with ids derived from n, 10 input and 1 output token each,
so what the store must hold follows from the set of acknowledged request numbers.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import grpc
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

BASE_NS = 1_764_000_000_000_000_000
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
INPUT_TOKENS = 10
OUTPUT_TOKENS = 1


def make_request(n: int, spans: int, service: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(_kv("service.name", service))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "loadgen"
    for i in range(spans):
        span = scope_spans.spans.add()
        span.trace_id = n.to_bytes(8, "big") + (1).to_bytes(8, "big")
        span.span_id = (n * 100_000 + i + 1).to_bytes(8, "big")
        span.name = "chat gpt-4o-mini"
        span.kind = 3
        span.start_time_unix_nano = BASE_NS + n * 1_000_000 + i
        span.end_time_unix_nano = span.start_time_unix_nano + 5_000_000
        span.attributes.extend(
            [
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.provider.name", "openai"),
                _kv("gen_ai.request.model", "gpt-4o-mini"),
                _kv("gen_ai.usage.input_tokens", INPUT_TOKENS),
                _kv("gen_ai.usage.output_tokens", OUTPUT_TOKENS),
            ]
        )
    return request


def _kv(key: str, value: str | int) -> KeyValue:
    kv = KeyValue(key=key)
    if isinstance(value, int):
        kv.value.int_value = value
    else:
        kv.value.string_value = value
    return kv


@dataclass
class LoadResult:
    sent: set[int] = field(default_factory=set)
    acked: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    throttled: int = 0


class GrpcLoad:
    """`threads` senders, each sending its own request numbers until `requests` are done or stop()."""

    def __init__(
        self,
        endpoint: str,
        *,
        requests: int,
        spans: int,
        service: str,
        threads: int = 2,
        metadata: tuple[tuple[str, str], ...] = (),
        retry_throttled_s: float | None = None,
        start_at: int = 0,
    ) -> None:
        self.endpoint = endpoint
        self.start_at = start_at
        self.requests = requests
        self.spans = spans
        self.service = service
        self.metadata = metadata
        self.retry_throttled_s = retry_throttled_s
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._send, args=(k, threads), daemon=True) for k in range(threads)
        ]

    def start(self) -> GrpcLoad:
        for thread in self._threads:
            thread.start()
        return self

    def acked_count(self) -> int:
        with self._lock:
            return len(self.result.acked)

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout_s: float = 120) -> LoadResult:
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return self.result

    def _send(self, first: int, step: int) -> None:
        with grpc.insecure_channel(self.endpoint) as channel:
            export = channel.unary_unary(
                EXPORT,
                request_serializer=ExportTraceServiceRequest.SerializeToString,
                response_deserializer=ExportTraceServiceResponse.FromString,
            )
            for n in range(self.start_at + first, self.start_at + self.requests, step):
                if self._stop.is_set():
                    return
                request = make_request(n, self.spans, self.service)
                with self._lock:
                    self.result.sent.add(n)
                for _attempt in range(200):
                    try:
                        export(request, timeout=30, metadata=self.metadata)
                    except grpc.RpcError as exc:
                        code = exc.code()
                        if code == grpc.StatusCode.RESOURCE_EXHAUSTED and self.retry_throttled_s is not None:
                            with self._lock:
                                self.result.throttled += 1
                            time.sleep(self.retry_throttled_s)
                            continue
                        with self._lock:
                            self.result.failed.add(n)
                        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                            return  # the collector is gone
                        break
                    else:
                        with self._lock:
                            self.result.acked.add(n)
                        break


def otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON as the JavaScript exporters write it: hex ids, integer enums, string int64s."""
    document = json_format.MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in document.get("resourceSpans", ()):
        for scope_spans in resource_spans.get("scopeSpans", ()):
            for span in scope_spans.get("spans", ()):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return json.dumps(document).encode()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", parts.path, body, headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def stored_requests(collector, service: str, *, final: bool = True) -> dict[int, int]:
    """Request number -> rows stored for it in otel_traces (physical rows when final is False)."""
    rows = collector.sql(
        "SELECT substring(TraceId, 1, 16) AS n, count() AS rows FROM otel_traces"
        " WHERE ServiceName = {service:String} GROUP BY n",
        {"service": service},
        final=final,
    )
    return {int(row["n"], 16): row["rows"] for row in rows}
