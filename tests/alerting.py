"""Helpers of the budget and alert tests: real receivers on 127.0.0.1:0 and agent_steps rows.

Receivers record every request; the webhook one answers from a script of status codes (500
once, then 200, say), so retries are observable without timing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from spanhouse.collector.processors.genai import AGENT_STEPS_COLUMNS

WAIT_S = 30


class Received(NamedTuple):
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpReceiver:
    """A threaded HTTP server recording POSTs; answers with `script` statuses in order, then 200
    (with `hold`, only once that event is set)."""

    def __init__(
        self, script: list[int] | None = None, redirect_to: str = "", hold: threading.Event | None = None
    ) -> None:
        self.requests: list[Received] = []
        self.script = list(script or [])
        self.redirect_to = redirect_to
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                if hold is not None:  # a receiver that does not answer until the test lets it
                    hold.wait(WAIT_S)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests.append(Received(self.path, headers, body))
                    status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                answer = b'{"internal":"secret-response-body"}'
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def wait_for(self, count: int) -> list[Received]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        with self._lock:
            return list(self.requests)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class GrpcLogsReceiver:
    """An OTLP/gRPC LogsService on 127.0.0.1:0 recording each ExportLogsServiceRequest."""

    def __init__(self) -> None:
        self.requests: list[ExportLogsServiceRequest] = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        handler = grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.logs.v1.LogsService",
            {
                "Export": grpc.unary_unary_rpc_method_handler(
                    self._export,
                    request_deserializer=ExportLogsServiceRequest.FromString,
                    response_serializer=ExportLogsServiceResponse.SerializeToString,
                )
            },
        )
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def _export(
        self, request: ExportLogsServiceRequest, context: grpc.ServicerContext
    ) -> ExportLogsServiceResponse:
        self.requests.append(request)
        return ExportLogsServiceResponse()

    def wait_for(self, count: int) -> list[ExportLogsServiceRequest]:
        deadline = time.monotonic() + WAIT_S
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.requests)

    def stop(self) -> None:
        self.server.stop(0).wait()


def valid_signature(received: Received, secret: str, max_age_s: float = 300) -> bool:
    """What a receiver of the webhook checks: HMAC-SHA256 of '<timestamp>.<body>', and a fresh timestamp."""
    timestamp = received.headers.get("x-spanhouse-timestamp", "")
    given = received.headers.get("x-spanhouse-signature", "")
    expected = (
        "sha256="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(given, expected) and abs(time.time() - int(timestamp)) < max_age_s


def step_row(**values: Any) -> list[Any]:
    """One agent_steps row in AGENT_STEPS_COLUMNS order: a priced model call unless told otherwise."""
    row: dict[str, Any] = dict.fromkeys(AGENT_STEPS_COLUMNS, "")
    row.update(
        TraceId="trace",
        IsModelCall=True,
        StepKind="llm",
        StatusCode="Ok",
        InputTokens=0,
        CachedInputTokens=0,
        CacheWriteTokens=0,
        OutputTokens=0,
        ReasoningTokens=0,
        CostUSD=None,
        ReportedCostUSD=None,
        DurationMs=100.0,
        QualityScore=None,
        Confidence=None,
        Attributes={},
    )
    row.update(values)
    if not row["SpanId"]:
        row["SpanId"] = hashlib.sha1(repr(sorted(values.items())).encode()).hexdigest()[:16]
    return [row[c] for c in AGENT_STEPS_COLUMNS]


def insert_steps(store: Any, rows: list[list[Any]]) -> None:
    store.insert("agent_steps", [list(c) for c in zip(*rows, strict=True)], AGENT_STEPS_COLUMNS)


def hours(at: dt.datetime, n: float) -> dt.datetime:
    return at + dt.timedelta(hours=n)
