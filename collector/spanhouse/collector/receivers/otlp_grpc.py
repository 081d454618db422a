"""OTLP/gRPC trace receiver: opentelemetry.proto.collector.trace.v1.TraceService/Export.

Bodies are parsed here rather than by grpcio, so a malformed message gets INVALID_ARGUMENT
with a reason instead of grpcio's generic INTERNAL.
"""

from __future__ import annotations

import logging
from concurrent import futures
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.config import DEFAULT_MAX_REQUEST_BYTES
from spanhouse.collector.errors import (
    InvalidRequest,
    QueueFull,
    RequestTooLarge,
    StoreUnavailable,
    Unauthenticated,
)
from spanhouse.collector.pipeline import TracePipeline
from spanhouse.collector.receivers.otlp_decode import (
    decode_protobuf_salvaging,
)

logger = logging.getLogger(__name__)

SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"


@dataclass(frozen=True)
class ConnectionAge:
    """How long a gRPC connection lives, in seconds.

    grpcio reads a unary call's message in the worker thread the call was given, so a client that
    never completes its message holds a worker and a slot of the concurrency cap. A connection is
    told to go away (GOAWAY; clients reconnect at once) after `most`, and closed with the calls
    still open on it `grace` later: a call can be held that long at most. The same five minutes
    bound the reading of an OTLP/HTTP request (httpserver.ConnectionTimeouts). A connection with
    no call for `idle` is told to go away too, as an idle OTLP/HTTP connection is closed: an
    exporter that went quiet gives its socket back and reconnects with its next export.
    """

    most: float = 300.0
    grace: float = 60.0
    idle: float = 60.0


class OtlpGrpcReceiver:
    def __init__(
        self,
        pipeline: TracePipeline,
        endpoint: str,
        *,
        max_concurrent_rpcs: int,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        retry_after_s: float,
        auth: ApiKeys | None = None,
        tls: tuple[bytes, bytes] | None = None,
        connection_age: ConnectionAge = ConnectionAge(),
    ) -> None:
        self.pipeline = pipeline
        self.retry_after_s = retry_after_s
        self.auth = auth or ApiKeys()
        self._server = grpc.server(
            # A worker per slot: with fewer, as many held calls as workers stopped every other call.
            futures.ThreadPoolExecutor(max_workers=max_concurrent_rpcs, thread_name_prefix="otlp-grpc"),
            # Bounds memory under overload: RPCs past this many in flight (running or waiting
            # for a worker) are refused by grpc with RESOURCE_EXHAUSTED before their body is kept.
            maximum_concurrent_rpcs=max_concurrent_rpcs,
            options=[
                ("grpc.max_receive_message_length", max_request_bytes),
                ("grpc.so_reuseport", 0),
                ("grpc.max_connection_age_ms", int(connection_age.most * 1000)),
                ("grpc.max_connection_age_grace_ms", int(connection_age.grace * 1000)),
                ("grpc.max_connection_idle_ms", int(connection_age.idle * 1000)),
            ],
        )
        handler = grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Export": grpc.unary_unary_rpc_method_handler(
                    self._export,
                    request_deserializer=None,  # raw bytes; parsed in _export
                    response_serializer=ExportTraceServiceResponse.SerializeToString,
                )
            },
        )
        self._server.add_generic_rpc_handlers((handler,))
        if tls is not None:  # (private key PEM, certificate chain PEM)
            self.port = self._server.add_secure_port(endpoint, grpc.ssl_server_credentials([tls]))
        else:
            self.port = self._server.add_insecure_port(endpoint)
        if self.port == 0:
            raise OSError(f"cannot listen for OTLP/gRPC on {endpoint}")
        self.host = endpoint.rsplit(":", 1)[0].strip("[]")
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._server.start()
            self._started = True

    def shutdown(self, grace_s: float = 5.0) -> None:
        if self._started:
            self._server.stop(grace_s).wait()
            self._started = False

    def _export(self, body: bytes, context: grpc.ServicerContext) -> ExportTraceServiceResponse:
        try:
            tenant = self.auth.sender_tenant(
                {k.lower(): v for k, v in context.invocation_metadata() if isinstance(v, str)}
            )
        except Unauthenticated as exc:
            self.pipeline.metrics.requests_unauthenticated.inc()
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
        try:
            request, unparsed = decode_protobuf_salvaging(body)
        except InvalidRequest as exc:
            self.pipeline.metrics.requests_invalid.inc()
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        try:
            outcome = self.pipeline.export(
                request, tenant=tenant, raw=None if unparsed else body, rejected=unparsed
            )
        except RequestTooLarge as exc:  # RESOURCE_EXHAUSTED without RetryInfo: not retryable
            self.pipeline.metrics.requests_invalid.inc()
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except QueueFull as exc:
            self.pipeline.metrics.requests_throttled.inc()
            logger.warning("throttling a client: %s", exc)
            _abort_retryable(context, grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc), self.retry_after_s)
        except (StoreUnavailable, TimeoutError, FutureTimeout, OSError) as exc:  # futures: Python 3.10
            logger.warning("could not store a request, asking the client to retry: %s", exc)
            _abort_retryable(
                context,
                grpc.StatusCode.UNAVAILABLE,
                "the collector cannot store now; retry later",
                self.retry_after_s,
            )
        reply = ExportTraceServiceResponse()
        if outcome.rejected or outcome.warnings:
            reply.partial_success.rejected_spans = outcome.rejected
            reply.partial_success.error_message = outcome.error_message
        return reply


def _abort_retryable(
    context: grpc.ServicerContext, code: grpc.StatusCode, message: str, retry_after_s: float
) -> None:
    """Abort with google.rpc.RetryInfo attached, which makes RESOURCE_EXHAUSTED retryable for OTLP clients."""
    delay = Duration()
    delay.FromNanoseconds(int(retry_after_s * 1e9))
    retry_info = error_details_pb2.RetryInfo(retry_delay=delay)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=message)
    status.details.add().Pack(retry_info)
    context.set_trailing_metadata(
        (
            ("google.rpc.retryinfo-bin", retry_info.SerializeToString()),
            ("grpc-status-details-bin", status.SerializeToString()),
        )
    )
    context.abort(code, message)
