"""The forward exporter's retries against real servers on 127.0.0.1: it honours the delay a
backend asks for (gRPC RetryInfo, HTTP Retry-After), retries a backend that refuses for now or
times out, and gives up on refusals no retry can fix."""

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


# Backoff short enough that plain retries deliver at once.
FAST_RETRY = RetryConfig(initial_interval=0.01, max_interval=0.02, max_elapsed_time=600.0)


class ScriptedReceiver(RecordingReceiver):
    """Answers each call by the next step of `script`: a status code to abort with, "hang" to
    answer only once `release` is set (after the caller's deadline), or "ok"."""

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.attempts = 0
        self.release = threading.Event()
        super().__init__()

    def _export(self, body: bytes, context: grpc.ServicerContext):
        self.attempts += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "hang":
            self.release.wait(WAIT_S)
            context.abort(grpc.StatusCode.CANCELLED, "answered too late")
        if step != "ok":
            context.abort(getattr(grpc.StatusCode, step), f"scripted {step}")
        return super()._export(body, context)

    def stop(self) -> None:
        self.release.set()
        super().stop()


def _scripted_forwarder(receiver: ScriptedReceiver, metrics: Metrics) -> OtlpForwarder:
    config = ForwardExporterConfig(
        name="otlp/scripted",
        protocol="grpc",
        endpoint=f"127.0.0.1:{receiver.port}",
        tls=TlsClientConfig(insecure=True),
        timeout=0.5,
        retry_on_failure=FAST_RETRY,
    )
    forwarder = OtlpForwarder(config, metrics)
    forwarder.start()
    return forwarder


@pytest.mark.parametrize("script", [("UNAVAILABLE", "UNAVAILABLE"), ("hang",)], ids=["refuses", "times out"])
def test_grpc_backend_that_refuses_or_times_out_is_retried(metrics: Metrics, script: tuple[str, ...]) -> None:
    receiver = ScriptedReceiver(*script)
    forwarder = _scripted_forwarder(receiver, metrics)
    try:
        payload = make_request(4).SerializeToString()
        forwarder.submit(payload)
        assert _wait(lambda: forwarder.sent.value == 1)
        assert receiver.bodies == [payload] and receiver.attempts == len(script) + 1
        assert forwarder.failures.value == len(script) and forwarder.dropped.value == 0
    finally:
        forwarder.shutdown(flush_timeout_s=0)
        receiver.stop()


def test_grpc_refusal_no_retry_can_fix_is_dropped_at_once(metrics: Metrics) -> None:
    receiver = ScriptedReceiver("INVALID_ARGUMENT")
    forwarder = _scripted_forwarder(receiver, metrics)
    try:
        forwarder.submit(make_request(5).SerializeToString())
        assert _wait(lambda: forwarder.dropped.value == 1)
        assert receiver.attempts == 1 and receiver.bodies == [] and forwarder.failures.value == 1
    finally:
        forwarder.shutdown(flush_timeout_s=0)
        receiver.stop()


class _ScriptedHttp(http.server.BaseHTTPRequestHandler):
    script: list[str] = []  # noqa: RUF012 - one list per server, see _http_server
    bodies: list[bytes] = []  # noqa: RUF012
    release = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        step = type(self).script.pop(0) if type(self).script else "200"
        if step == "hang":
            type(self).release.wait(WAIT_S)
            return
        if step == "200":
            type(self).bodies.append(body)
        self.send_response(int(step))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("script", "sent"),
    [(["503", "502"], 1), (["hang"], 1), (["400"], 0)],
    ids=["refuses", "times out", "bad request"],
)
def test_http_backend_failures(metrics: Metrics, script: list[str], sent: int) -> None:
    handler = type(
        "Handler", (_ScriptedHttp,), {"script": list(script), "bodies": [], "release": threading.Event()}
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = ForwardExporterConfig(
        name="otlphttp/scripted",
        protocol="http/protobuf",
        endpoint=f"http://127.0.0.1:{server.server_address[1]}",
        compression="none",
        timeout=0.5,
        retry_on_failure=FAST_RETRY,
    )
    forwarder = OtlpForwarder(config, metrics)
    forwarder.start()
    try:
        payload = make_request(6).SerializeToString()
        forwarder.submit(payload)
        assert _wait(lambda: forwarder.sent.value + forwarder.dropped.value == 1)
        assert forwarder.sent.value == sent and handler.bodies == [payload] * sent
        assert forwarder.failures.value == len(script)
    finally:
        forwarder.shutdown(flush_timeout_s=0)
        handler.release.set()
        server.shutdown()
        server.server_close()
