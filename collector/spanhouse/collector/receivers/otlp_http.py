"""OTLP/HTTP trace receiver: POST /v1/traces with protobuf or JSON bodies, gzip or plain."""

from __future__ import annotations

import json
import logging
from concurrent.futures import TimeoutError as FutureTimeout

from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.config import DEFAULT_MAX_REQUEST_BYTES
from spanhouse.collector.errors import (
    InvalidRequest,
    QueueFull,
    RequestTooLarge,
    StoreUnavailable,
    Unauthenticated,
)
from spanhouse.collector.httpserver import Request, Response
from spanhouse.collector.pipeline import ExportOutcome, TracePipeline
from spanhouse.collector.receivers.otlp_decode import (
    decode_json,
    decode_protobuf_salvaging,
    decompress,
    gzip_bytes,
)

logger = logging.getLogger(__name__)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class OtlpHttpTracesHandler:
    """Handles one POST /v1/traces; replies in the Content-Type it was sent."""

    def __init__(
        self,
        pipeline: TracePipeline,
        *,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        retry_after_s: float,
        auth: ApiKeys | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.max_request_bytes = max_request_bytes
        self.retry_after_s = retry_after_s
        self.auth = auth or ApiKeys()

    def __call__(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type not in (PROTOBUF, JSON):
            return _status(415, f"Content-Type must be {PROTOBUF} or {JSON}, got {content_type!r}", JSON)
        try:
            tenant = self.auth.sender_tenant(request.headers)
        except Unauthenticated as exc:
            self.pipeline.metrics.requests_unauthenticated.inc()
            return _status(401, str(exc), content_type)
        try:
            self.pipeline.refuse_if_over_budget()  # before the body is decoded, not after
        except QueueFull as exc:
            return self._throttle(exc, content_type)
        decoded = self._decode(request, content_type)
        if isinstance(decoded, Response):
            return decoded
        body, message, unparsed = decoded
        try:
            raw = body if content_type == PROTOBUF and not unparsed else None
            outcome = self.pipeline.export(message, tenant=tenant, raw=raw, rejected=unparsed)
        except RequestTooLarge as exc:
            self.pipeline.metrics.requests_invalid.inc()
            return _status(413, str(exc), content_type)
        except QueueFull as exc:
            return self._throttle(exc, content_type)
        except (StoreUnavailable, TimeoutError, FutureTimeout, OSError) as exc:  # futures: Python 3.10
            logger.warning("could not store a request, asking the client to retry: %s", exc)
            return self._retry_later(503, "the collector cannot store now; retry later", content_type)
        return self._reply(request, outcome, content_type)

    def _decode(
        self, request: Request, content_type: str
    ) -> tuple[bytes, ExportTraceServiceRequest, list[str] | None] | Response:
        """The body (decompressed), its request and the reasons for spans left out, or the error reply."""
        try:
            body = decompress(
                request.body, request.headers.get("content-encoding", ""), limit=self.max_request_bytes
            )
            if content_type == JSON:
                return body, decode_json(body), None
            return (body, *decode_protobuf_salvaging(body))
        except RequestTooLarge as exc:
            return _status(413, str(exc), content_type)
        except InvalidRequest as exc:
            self.pipeline.metrics.requests_invalid.inc()
            return _status(400, str(exc), content_type)

    def _reply(self, request: Request, outcome: ExportOutcome, content_type: str) -> Response:
        reply = ExportTraceServiceResponse()
        if outcome.rejected or outcome.warnings:
            reply.partial_success.rejected_spans = outcome.rejected
            reply.partial_success.error_message = outcome.error_message
        payload = _encode(reply, content_type)
        headers = {}
        if "gzip" in request.headers.get("accept-encoding", "") and len(payload) > 1024:
            payload = gzip_bytes(payload)
            headers["Content-Encoding"] = "gzip"
        return Response(200, payload, content_type, headers)

    def _throttle(self, exc: QueueFull, content_type: str) -> Response:
        self.pipeline.metrics.requests_throttled.inc()
        logger.warning("throttling a client: %s", exc)
        return self._retry_later(429, str(exc), content_type)

    def _retry_later(self, code: int, message: str, content_type: str) -> Response:
        response = _status(code, message, content_type)
        response.headers["Retry-After"] = str(max(1, round(self.retry_after_s)))
        return response


def _status(code: int, message: str, content_type: str) -> Response:
    """An OTLP error reply: a google.rpc.Status in the request's encoding."""
    status = status_pb2.Status(message=message)
    return Response(code, _encode(status, content_type), content_type)


def _encode(message, content_type: str) -> bytes:
    if content_type == JSON:
        return json.dumps(json_format.MessageToDict(message)).encode()
    return message.SerializeToString()
