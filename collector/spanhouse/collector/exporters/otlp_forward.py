"""Forwards OTLP requests, byte for byte as received (after the configured request processors),
to another OTel backend over gRPC (`otlp`) or HTTP/protobuf (`otlphttp`).

Each forwarder has its own bounded in-memory queue and sender thread, so a slow or down
backend never delays the ClickHouse path: `submit()` never blocks, and when the queue is full
the oldest request is dropped (counted and logged). Failed sends go through the exporters' one
retry loop (exporters/retry.py): exponential backoff, the server's google.rpc.RetryInfo (gRPC)
or Retry-After (HTTP) honoured, refusals no retry can fix dropped at once, and everything given
up after `retry_on_failure.max_elapsed_time`.
"""

from __future__ import annotations

import collections
import gzip
import logging
import ssl
import threading
import time
import urllib.error
import urllib.request

import grpc

from spanhouse.collector.config import ForwardExporterConfig, TlsClientConfig
from spanhouse.collector.exporters.retry import (
    GaveUp,
    PermanentError,
    RetryPolicy,
    ThrottledError,
    grpc_retry_info,
    retry,
    retry_after_header,
)
from spanhouse.collector.telemetry import Counter, Metrics

logger = logging.getLogger(__name__)

_EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
_RETRYABLE_GRPC = {
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
_RETRYABLE_HTTP = {429, 502, 503, 504}


class OtlpForwarder:
    """One `otlp` / `otlphttp` exporter: a bounded queue in memory and a sender thread."""

    def __init__(self, config: ForwardExporterConfig, metrics: Metrics) -> None:
        self.config = config
        self._policy = RetryPolicy.from_config(config.retry_on_failure)
        self._queue: collections.deque[bytes] = collections.deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._channel: grpc.Channel | None = None
        self._call: grpc.UnaryUnaryMultiCallable[bytes, bytes] | None = None
        self._https = _https_context(config.tls) if config.protocol != "grpc" else None
        label = config.name.replace("/", "_")
        self.sent = _counter(metrics, f"forwarder_{label}_sent", f"Requests forwarded to {config.name}.")
        self.dropped = _counter(
            metrics,
            f"forwarder_{label}_dropped",
            f"Requests to {config.name} dropped: queue full, or retries given up.",
        )
        self.failures = _counter(metrics, f"forwarder_{label}_failures", f"Failed sends to {config.name}.")
        metrics.gauge(
            f"spanhouse_forwarder_{label}_queue_requests",
            f"Requests waiting to be forwarded to {config.name}.",
            lambda: len(self._queue),
        )

    @property
    def depth(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"forward-{self.config.name}", daemon=True)
            self._thread.start()

    def submit(self, payload: bytes) -> None:
        """Queue one serialized ExportTraceServiceRequest; never blocks."""
        with self._cond:
            if len(self._queue) >= self.config.sending_queue.queue_size:
                self._queue.popleft()
                self.dropped.inc()
                if self.dropped.value in (1, 10, 100) or self.dropped.value % 1000 == 0:
                    logger.warning(
                        "forwarder %s queue is full (%d requests); dropped the oldest (%d so far)",
                        self.config.name,
                        self.config.sending_queue.queue_size,
                        self.dropped.value,
                    )
            self._queue.append(payload)
            self._cond.notify()

    def shutdown(self, *, flush_timeout_s: float = 5.0) -> None:
        """Try to send what is queued for up to `flush_timeout_s`, then stop. Idempotent.

        A send still blocked on a dead backend is abandoned (the thread is a daemon)."""
        deadline = time.monotonic() + flush_timeout_s
        while self._thread is not None and self._queue and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=max(0.1, deadline - time.monotonic()))
            self._thread = None
        if self._queue:
            logger.warning(
                "forwarder %s: %d request(s) not sent at shutdown", self.config.name, len(self._queue)
            )
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._queue and not self._stop.is_set():
                    self._cond.wait(0.5)
                if self._stop.is_set():
                    return
                payload = self._queue[0]
            self._deliver(payload)
            with self._cond:
                if self._queue and self._queue[0] is payload:
                    self._queue.popleft()

    def _deliver(self, payload: bytes) -> None:
        try:
            retry(lambda: self._send(payload), self._policy, stop=self._stop, on_failure=self._failed)
        except GaveUp as exc:
            if exc.reason != "stopped":  # at shutdown the request is counted as not sent, below
                self.dropped.inc()
                logger.warning(
                    "forwarder %s dropped a request (%s): %s", self.config.name, exc.reason, exc.cause
                )
            return
        self.sent.inc()

    def _failed(self, exc: BaseException, attempt: int, delay: float | None) -> None:
        self.failures.inc()
        if attempt == 1 and delay is not None:
            logger.info("forwarder %s: %s; retrying in %.1fs", self.config.name, exc, delay)

    def _send(self, payload: bytes) -> None:
        if self.config.protocol == "grpc":
            self._send_grpc(payload)
        else:
            self._send_http(payload)

    def _send_grpc(self, payload: bytes) -> None:
        cfg = self.config
        if self._call is None:
            target = cfg.endpoint.split("://", 1)[-1]
            secure = not cfg.tls.insecure and not cfg.endpoint.startswith("http://")
            if secure:
                root = open(cfg.tls.ca_file, "rb").read() if cfg.tls.ca_file else None  # noqa: SIM115
                self._channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root))
            else:
                self._channel = grpc.insecure_channel(target)
            self._call = self._channel.unary_unary(
                _EXPORT_METHOD, request_serializer=None, response_deserializer=None
            )
        metadata = tuple((k.lower(), v) for k, v in cfg.headers.items())
        try:
            self._call(
                payload,
                timeout=cfg.timeout,
                metadata=metadata,
                compression=grpc.Compression.Gzip
                if cfg.compression == "gzip"
                else grpc.Compression.NoCompression,
            )
        except grpc.RpcError as exc:
            code = exc.code()
            delay = grpc_retry_info(exc.trailing_metadata())
            message = f"{code.name}: {exc.details()}"
            if code not in _RETRYABLE_GRPC or (code is grpc.StatusCode.RESOURCE_EXHAUSTED and delay is None):
                raise PermanentError(message) from None  # RESOURCE_EXHAUSTED retries only with RetryInfo
            if delay is not None:
                raise ThrottledError(message, retry_after_s=delay) from None
            raise ConnectionError(message) from None

    def _send_http(self, payload: bytes) -> None:
        cfg = self.config
        headers = {"Content-Type": "application/x-protobuf", **cfg.headers}
        body = payload
        if cfg.compression == "gzip":
            body = gzip.compress(payload, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        request = urllib.request.Request(cfg.traces_url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=cfg.timeout, context=self._https) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            message = f"HTTP {exc.code} from {cfg.traces_url}"
            if exc.code not in _RETRYABLE_HTTP:
                raise PermanentError(message) from None
            delay = retry_after_header(exc.headers.get("Retry-After"))
            if delay is not None:
                raise ThrottledError(message, retry_after_s=delay) from None
            raise ConnectionError(message) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ConnectionError(f"cannot reach {cfg.traces_url}: {exc}") from None


def _https_context(tls: TlsClientConfig) -> ssl.SSLContext | None:
    """The client context of an otlphttp forwarder: the given CA, or no verification at all when
    insecure_skip_verify is set; None (the system's CAs) otherwise."""
    if tls.ca_file is None and not tls.insecure_skip_verify:
        return None
    context = ssl.create_default_context(cafile=tls.ca_file)
    if tls.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _counter(metrics: Metrics, name: str, help_text: str) -> Counter:
    counter = Counter(f"spanhouse_{name}_total", help_text)
    setattr(metrics, name, counter)  # exposed on /metrics beside the built-in counters
    return counter
