"""Decodes OTLP trace export bodies (protobuf, OTLP/JSON, gzip) into protobuf messages."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spanhouse.collector.config import DEFAULT_MAX_REQUEST_BYTES
from spanhouse.collector.errors import InvalidRequest, RequestTooLarge

# OTLP/JSON carries these ids as hex, where the proto3 JSON mapping expects base64.
_SPAN_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def decompress(body: bytes, encoding: str, *, limit: int = DEFAULT_MAX_REQUEST_BYTES) -> bytes:
    """Undo Content-Encoding, refusing output past `limit` (so a gzip bomb stops early)."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity", "none"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise InvalidRequest(f"unsupported Content-Encoding {encoding!r}; use gzip or none")
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InvalidRequest(f"body is not valid {encoding}: {exc}") from None
    if len(out) > limit:
        raise RequestTooLarge(f"decompressed body is over the {limit} byte limit")
    if not inflater.eof:
        raise InvalidRequest(f"body is truncated {encoding} data")
    return out


def decode_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise InvalidRequest(f"body is not a valid ExportTraceServiceRequest protobuf: {exc}") from None
    return request


def decode_protobuf_salvaging(body: bytes) -> tuple[ExportTraceServiceRequest, list[str] | None]:
    """Parse `body`; if it does not parse whole (e.g. one span has a non-UTF-8 string), keep
    the spans that do. Returns the request and, when salvaged, the reasons for the spans left out."""
    try:
        return decode_protobuf(body), None
    except InvalidRequest as whole:
        from spanhouse.collector.receivers.otlp_salvage import salvage

        request, reasons = salvage(body)
        if not reasons:
            raise whole from None
        return request, reasons


def decode_json(body: bytes) -> ExportTraceServiceRequest:
    """Parse OTLP/JSON: hex ids, integer enums, 64-bit ints as strings, unknown fields ignored."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidRequest("body must be a JSON object with a resourceSpans array")
    try:
        for resource_spans in document.get("resourceSpans") or ():
            for scope_spans in resource_spans.get("scopeSpans") or ():
                for span in scope_spans.get("spans") or ():
                    _hex_ids_to_base64(span)
                    for link in span.get("links") or ():
                        _hex_ids_to_base64(link)
        return json_format.ParseDict(document, ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except (json_format.ParseError, AttributeError, TypeError, ValueError) as exc:
        raise InvalidRequest(f"body is not a valid OTLP/JSON ExportTraceServiceRequest: {exc}") from None


def _hex_ids_to_base64(obj: dict[str, Any]) -> None:
    for field in _SPAN_ID_FIELDS:
        value = obj.get(field)
        if not value:
            continue
        if not isinstance(value, str):
            raise InvalidRequest(f"{field} must be a hex string, got {type(value).__name__}")
        try:
            obj[field] = base64.b64encode(binascii.unhexlify(value)).decode("ascii")
        except (binascii.Error, ValueError):
            raise InvalidRequest(f"{field} {value[:40]!r} is not a hex string") from None


def gzip_bytes(data: bytes) -> bytes:
    """Compress a response body when the client accepts gzip."""
    return gzip.compress(data, compresslevel=5)
