"""Recovers the valid spans of a protobuf request that does not parse as a whole.

protobuf refuses a whole ExportTraceServiceRequest when one string anywhere is not UTF-8.
This walks the wire format down to the spans and parses each span on its own, so the bad
ones are rejected (OTLP partial success) and the others are stored. A body whose framing
itself is broken is refused whole.
"""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from spanhouse.collector.errors import InvalidRequest

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


def salvage(body: bytes) -> tuple[ExportTraceServiceRequest, list[str]]:
    """The request with every span that parses, and one reason per span that does not."""
    request = ExportTraceServiceRequest()
    reasons: list[str] = []
    try:
        for number, value in _fields(body):
            if number == 1:
                _resource_spans(_bytes(value), request.resource_spans.add(), reasons)
    except (IndexError, ValueError, TypeError) as exc:  # TypeError: a field of the wrong wire type
        raise InvalidRequest(f"body is not a valid ExportTraceServiceRequest protobuf: {exc}") from None
    return request, reasons


def _resource_spans(data: bytes, out: ResourceSpans, reasons: list[str]) -> None:
    resource_error: Exception | None = None
    scopes: list[bytes] = []
    for number, value in _fields(data):
        if number == 1:
            try:
                out.resource.CopyFrom(Resource.FromString(_bytes(value)))
            except DecodeError as exc:
                resource_error = exc
        elif number == 2:
            scopes.append(_bytes(value))
        elif number == 3 and isinstance(value, bytes):
            out.schema_url = value.decode("utf-8", "replace")
    for scope_data in scopes:
        if resource_error is not None:
            spans = sum(1 for number, _ in _fields(scope_data) if number == 2)
            reasons += [f"resource of {spans} span(s) is not valid: {resource_error}"] * spans
            continue
        _scope_spans(scope_data, out.scope_spans.add(), reasons)


def _scope_spans(data: bytes, out: ScopeSpans, reasons: list[str]) -> None:
    spans = [_bytes(value) for number, value in _fields(data) if number == 2]
    for number, value in _fields(data):
        if number == 1:
            try:
                out.scope.CopyFrom(InstrumentationScope.FromString(_bytes(value)))
            except DecodeError as exc:
                reasons += [f"instrumentation scope of {len(spans)} span(s) is not valid: {exc}"] * len(spans)
                return
    for index, span_data in enumerate(spans):
        try:
            out.spans.add().CopyFrom(Span.FromString(span_data))
        except DecodeError as exc:
            del out.spans[-1]
            reasons.append(f"span {_span_id(span_data) or f'#{index}'}: {exc}")


def _span_id(data: bytes) -> str:
    try:
        for number, value in _fields(data):
            if number == 2 and isinstance(value, bytes):
                return value.hex()
    except (IndexError, ValueError):
        pass
    return ""


def _fields(data: bytes) -> Iterator[tuple[int, bytes | int]]:
    """(field number, value) pairs of one message; LEN values as bytes, others as ints."""
    position, end = 0, len(data)
    value: bytes | int
    while position < end:
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire_type == _VARINT:
            value, position = _varint(data, position)
        elif wire_type == _I64:
            value, position = int.from_bytes(data[position : position + 8], "little"), position + 8
        elif wire_type == _I32:
            value, position = int.from_bytes(data[position : position + 4], "little"), position + 4
        elif wire_type == _LEN:
            length, position = _varint(data, position)
            value, position = data[position : position + length], position + length
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
        if position > end:
            raise ValueError("truncated message")
        yield number, value


def _bytes(value: bytes | int) -> bytes:
    """A length-delimited field's bytes; TypeError for a field of another wire type."""
    if not isinstance(value, bytes):
        raise TypeError(f"expected a length-delimited field, got a number ({value})")
    return value


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
