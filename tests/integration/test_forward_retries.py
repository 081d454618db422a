"""The forward exporter's retries against real servers on 127.0.0.1: it honours the delay a
backend asks for (gRPC RetryInfo, HTTP Retry-After) and gives up on non-retryable refusals."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.rpc import code_pb2, error_details_pb2, status_pb2

from helpers import RecordingReceiver, make_request
from spanhouse.collector.config import ForwardExporterConfig, RetryConfig, TlsClientConfig
from spanhouse.collector.exporters.otlp_forward import OtlpForwarder
from spanhouse.collector.telemetry import Metrics

# Backoff long enough that only honouring the server's delay delivers within the test's wait.
SLOW_RETRY = RetryConfig(initial_interval=120.0, max_interval=120.0, max_elapsed_time=600.0)
WAIT_S = 20


class ThrottlingReceiver(RecordingReceiver):
    """Refuses the first `refusals` requests with RESOURCE_EXHAUSTED (+ RetryInfo when `delay_s`)."""

    def __init__(self, refusals: int, delay_s: float | None) -> None:
        self.refusals = refusals
        self.delay_s = delay_s
        self.attempts = 0
        super().__init__()

    def _export(self, body: bytes, context: grpc.ServicerContext):
        self.attempts += 1
        if self.attempts <= self.refusals:
            if self.delay_s is not None:
                delay = Duration()
                delay.FromNanoseconds(int(self.delay_s * 1e9))
                status = status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message="slow down")
                status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
                context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down")
        return super()._export(body, context)


def _wait(condition) -> bool:
    deadline = time.monotonic() + WAIT_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


def _grpc_forwarder(port: int, metrics: Metrics) -> OtlpForwarder:
    config = ForwardExporterConfig(
        name="otlp/test",
        protocol="grpc",
        endpoint=f"127.0.0.1:{port}",
        tls=TlsClientConfig(insecure=True),
        retry_on_failure=SLOW_RETRY,
    )
    return OtlpForwarder(config, metrics)


def test_grpc_retry_info_delay_is_honoured(metrics: Metrics) -> None:
    receiver = ThrottlingReceiver(refusals=2, delay_s=0.05)
    forwarder = _grpc_forwarder(receiver.port, metrics)
    forwarder.start()
    try:
        payload = make_request(1).SerializeToString()
        forwarder.submit(payload)
        assert _wait(lambda: len(receiver.bodies) == 1)
        assert receiver.bodies == [payload] and receiver.attempts == 3
        assert forwarder.sent.value == 1 and forwarder.failures.value == 2 and forwarder.dropped.value == 0
    finally:
        forwarder.shutdown(flush_timeout_s=0)
        receiver.stop()


def test_grpc_resource_exhausted_without_retry_info_is_dropped(metrics: Metrics) -> None:
    receiver = ThrottlingReceiver(refusals=1, delay_s=None)
    forwarder = _grpc_forwarder(receiver.port, metrics)
    forwarder.start()
    try:
        forwarder.submit(make_request(1).SerializeToString())
        second = make_request(2).SerializeToString()
        forwarder.submit(second)
        assert _wait(lambda: len(receiver.bodies) == 1)
        assert receiver.bodies == [second] and forwarder.dropped.value == 1
    finally:
        forwarder.shutdown(flush_timeout_s=0)
        receiver.stop()


class _RetryAfterHandler(http.server.BaseHTTPRequestHandler):
    refusals = 2
    bodies: list[bytes] = []  # noqa: RUF012 - reset per server below
    attempts = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).attempts += 1
        if type(self).attempts <= type(self).refusals:
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        type(self).bodies.append((self.path, self.headers.get("Content-Encoding"), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_backend() -> Iterator[tuple[http.server.HTTPServer, type[_RetryAfterHandler]]]:
    handler = type("Handler", (_RetryAfterHandler,), {"bodies": [], "attempts": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_http_retry_after_is_honoured_and_body_is_unchanged(http_backend, metrics: Metrics) -> None:
    server, handler = http_backend
    config = ForwardExporterConfig(
        name="otlphttp/test",
        protocol="http/protobuf",
        endpoint=f"http://127.0.0.1:{server.server_address[1]}",
        compression="none",
        retry_on_failure=SLOW_RETRY,
    )
    forwarder = OtlpForwarder(config, metrics)
    forwarder.start()
    try:
        payload = make_request(3).SerializeToString()
        forwarder.submit(payload)
        assert _wait(lambda: len(handler.bodies) == 1)
        assert handler.bodies == [("/v1/traces", None, payload)] and handler.attempts == 3
    finally:
        forwarder.shutdown(flush_timeout_s=0)
