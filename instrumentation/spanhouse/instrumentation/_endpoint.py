"""Says once, in one sentence, when the OTLP endpoint does not answer, and never waits on it.

The SDK's OTLP exporters retry a refused connection with backoff for up to their timeout
(10 s), at every export and again at exit: an app with no collector running took about 10 s
to exit, and said why only in repeated transport errors (``BadStatusLine('\\x00\\x00\\x18\\x04…')``
for OTLP/HTTP sent to the gRPC port). :class:`CheckedExporter` wraps the exporter that
:func:`configure` makes and, whenever it does not know the endpoint to be up (at the first
export, and after a failed one), probes it first: a TCP connect, and on a cleartext endpoint
one small HTTP/1.1 request whose first reply bytes tell HTTP/1.1 from HTTP/2 (gRPC). While
the endpoint does not answer, batches fail at once (their spans are lost, as they would be
after the retries) and the reason is logged once; the first batch that gets through again is
logged too, and at shutdown the number of spans never delivered.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 1.0
DEFAULT_PORTS = {"grpc": 4317, "http/protobuf": 4318}
_HTTP2_FRAME_START = b"\x00\x00"  # a frame length's high bytes: a gRPC server's SETTINGS frame


_START_ONE = (
    "start a collector there (spanhouse collector), or point configure(endpoint=...) or "
    "OTEL_EXPORTER_OTLP_ENDPOINT at one"
)


def endpoint_problem(protocol: str, endpoint: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """Why `endpoint` cannot take OTLP over `protocol` and what to do, in one sentence; None when
    it seems to."""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    host = parts.hostname or "localhost"
    port = parts.port or DEFAULT_PORTS.get(protocol, 4318)
    where = f"{host}:{port}"
    try:
        connection = socket.create_connection((host, port), timeout=timeout_s)
    except ConnectionRefusedError:
        return f"nothing answers at {where} (connection refused): {_START_ONE}"
    except TimeoutError:
        return f"{where} did not answer within {timeout_s:g} s: {_START_ONE}"
    except OSError as exc:
        return f"cannot connect to {where} ({exc.strerror or exc}): {_START_ONE}"
    with connection:
        if parts.scheme == "https":
            return None  # TLS: the handshake is the exporter's business
        return _protocol_mismatch(connection, protocol, host, where)


def _protocol_mismatch(connection: socket.socket, protocol: str, host: str, where: str) -> str | None:
    try:
        connection.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        first = connection.recv(8)
        _read_to_end(connection)  # a server writing its reply must not find the socket reset
    except OSError:
        return None  # no verdict: let the exporter try
    if protocol == "http/protobuf" and first.startswith(_HTTP2_FRAME_START):
        return (
            f"{where} answers in HTTP/2 (gRPC), not OTLP/HTTP: it looks like an OTLP/gRPC port; use the "
            'OTLP/HTTP port (usually 4318), or configure(protocol="grpc")'
        )
    if protocol == "grpc" and first.startswith(b"HTTP/"):
        return (
            f"{where} answers in HTTP/1.1, not gRPC: it looks like an OTLP/HTTP port; use the OTLP/gRPC "
            'port (usually 4317), or configure(protocol="http/protobuf")'
        )
    return None


def _read_to_end(connection: socket.socket, limit: int = 1 << 16) -> None:
    received = 0
    while received < limit:
        chunk = connection.recv(4096)
        if not chunk:
            return
        received += len(chunk)


class CheckedExporter(SpanExporter):
    """An OTLP exporter that probes its endpoint while it is not known to be up (see module doc)."""

    def __init__(self, inner: SpanExporter, *, protocol: str, endpoint: str) -> None:
        self.inner = inner
        self.protocol = protocol
        self.endpoint = endpoint
        self.lost = 0  # spans never delivered
        self._up = False
        self._told: set[str] = set()
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            up = self._up
        if not up:
            problem = endpoint_problem(self.protocol, self.endpoint)
            if problem is not None:
                self._lose(len(spans), problem)
                return SpanExportResult.FAILURE
        result = self.inner.export(spans)
        if result is SpanExportResult.SUCCESS:
            with self._lock:
                came_back = not self._up and bool(self._told)
                self._up = True
            if came_back:
                logger.warning("spanhouse: %s answers again; exporting spans", self.endpoint)
            return result
        with self._lock:
            self._up = False
        self._lose(
            len(spans),
            endpoint_problem(self.protocol, self.endpoint)
            or "the exporter failed (its own messages above say why)",
        )
        return result

    def _lose(self, count: int, problem: str) -> None:
        with self._lock:
            self.lost += count
            first = problem not in self._told
            self._told.add(problem)
        if first:
            logger.warning(
                "spanhouse: cannot export spans to %s over OTLP %s: %s. Spans are dropped until it answers.",
                self.endpoint,
                self.protocol,
                problem,
            )

    def shutdown(self) -> None:
        if self.lost:
            logger.warning("spanhouse: %d span(s) were not delivered to %s", self.lost, self.endpoint)
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)
