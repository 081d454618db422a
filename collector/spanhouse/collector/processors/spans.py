"""Validates spans and flattens them into otel_traces rows (the clickhouseexporter layout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from spanhouse.collector.processors.attributes import read_attributes
from spanhouse.collector.rows import TraceRow

SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")

# Timestamps outside [2000-01-01, 2200-01-01) are clock bugs, not data.
MIN_TIME_NS = 946_684_800 * 10**9
MAX_TIME_NS = 7_258_118_400 * 10**9


class SpanRejected(ValueError):
    """This span cannot be stored; the message says why (sent back as OTLP partial success)."""


@dataclass(frozen=True, slots=True)
class SpanContext:
    """What a span's resource and scope contribute to each of its rows."""

    tenant: str
    service_name: str
    resource_text: dict[str, str]
    resource: dict[str, Any]
    scope_name: str
    scope_version: str


@dataclass(slots=True)
class FlatSpan:
    """One validated span: its otel_traces row plus the typed values the GenAI processor reads."""

    row: TraceRow
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    start_ns: int
    duration_ns: int
    status_code: str
    status_message: str
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]


def flatten_span(span: Span, ctx: SpanContext) -> FlatSpan:
    """Validate `span` and build its row; raises SpanRejected with the reason."""
    trace_id = _span_id_hex(span.trace_id, 16, "trace_id")
    span_id = _span_id_hex(span.span_id, 8, "span_id")
    parent = span.parent_span_id
    parent_span_id = "" if not parent.strip(b"\0") else _span_id_hex(parent, 8, "parent_span_id")
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    if not MIN_TIME_NS <= start < MAX_TIME_NS:
        raise SpanRejected(f"span {span_id}: start_time_unix_nano {start} is out of range")
    if end < start:
        raise SpanRejected(f"span {span_id}: end_time_unix_nano is before start_time_unix_nano")
    name = span.name
    if not name:
        raise SpanRejected(f"span {span_id}: name is empty")
    attributes, attribute_text = read_attributes(span.attributes)
    kind_number = span.kind
    kind = SPAN_KINDS[kind_number] if 0 <= kind_number < len(SPAN_KINDS) else "Unspecified"
    status = span.status
    status_number = status.code
    status_code = STATUS_CODES[status_number] if 0 <= status_number < 3 else "Unset"
    status_message = status.message
    # Most spans have no events and no links: each pass over an empty protobuf list still
    # costs about a microsecond, a tenth of this function.
    events: list[tuple[str, dict[str, Any]]] = []
    event_times: list[int] = []
    event_text: list[dict[str, str]] = []
    span_events = span.events
    if span_events:
        for event in span_events:
            typed, text = read_attributes(event.attributes)
            events.append((event.name, typed))
            event_times.append(event.time_unix_nano)
            event_text.append(text)
    links = span.links
    if links:
        link_trace_ids = [link.trace_id.hex() for link in links]
        link_span_ids = [link.span_id.hex() for link in links]
        link_states = [link.trace_state for link in links]
        link_text = [read_attributes(link.attributes)[1] for link in links]
    else:
        link_trace_ids, link_span_ids, link_states, link_text = [], [], [], []
    duration = end - start
    row = TraceRow(
        start,
        trace_id,
        span_id,
        parent_span_id,
        span.trace_state,
        name,
        kind,
        ctx.service_name,
        ctx.resource_text,
        ctx.scope_name,
        ctx.scope_version,
        attribute_text,
        duration,
        status_code,
        status_message,
        event_times,
        [event_name for event_name, _ in events],
        event_text,
        link_trace_ids,
        link_span_ids,
        link_states,
        link_text,
        ctx.tenant,
    )
    return FlatSpan(
        row=row,
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent_span_id,
        name=name,
        kind=kind,
        start_ns=start,
        duration_ns=duration,
        status_code=status_code,
        status_message=status_message,
        attributes=attributes,
        events=events,
    )


_ZEROS = {8: bytes(8), 16: bytes(16)}


def _span_id_hex(raw: bytes, size: int, field: str) -> str:
    if len(raw) != size:
        raise SpanRejected(f"{field} must be {size} bytes, got {len(raw)}")
    if raw == _ZEROS[size]:
        raise SpanRejected(f"{field} is all zeros")
    return raw.hex()
