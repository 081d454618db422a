"""Per-span limits applied before a span is flattened, so one bad or huge span cannot hurt the rest.

What each limit does (a warning goes back in OTLP partial success, `rejected_spans` unchanged,
except where the span is rejected):

- attributes per span over `max_attributes`: the extra ones are dropped (GenAI and spanhouse
  keys are kept first, since they feed agent_steps);
- an attribute value longer than `max_attribute_chars` (strings; bytes; arrays and maps by their
  encoded size): truncated to that many characters (non-strings become their truncated JSON text);
- events or links over `max_events` / `max_links`: the extra ones are dropped;
- an event timestamp past year 2200: the span is rejected (ClickHouse DateTime64(9) cannot hold it);
- a token count (gen_ai.usage.*) that is negative, not a number or over `max_token_count`:
  warned about and counted as 0 in agent_steps; the raw attribute stays in otel_traces.

Spans are changed in place; the raw request in the WAL is not, and a replay applies the same
limits, so it builds the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from spanhouse.collector.config import GenAIProcessorConfig
from spanhouse.collector.processors.attributes import any_value, to_text
from spanhouse.collector.processors.conventions.base import MAX_TOKEN_COUNT
from spanhouse.collector.processors.spans import MAX_TIME_NS, SpanRejected

_PRIORITY_PREFIXES = ("gen_ai.", "spanhouse.")
_TOKEN_PREFIX = "gen_ai.usage."


@dataclass(frozen=True)
class SpanLimits:
    """What one request and one span may hold; the configurable two come from processors.genai."""

    max_spans_per_request: int = GenAIProcessorConfig.max_spans_per_request
    max_attributes: int = 256
    max_attribute_chars: int = GenAIProcessorConfig.max_attribute_chars
    max_events: int = 256
    max_links: int = 256
    max_token_count: int = MAX_TOKEN_COUNT

    @classmethod
    def from_config(cls, genai: GenAIProcessorConfig) -> SpanLimits:
        return cls(
            max_spans_per_request=genai.max_spans_per_request, max_attribute_chars=genai.max_attribute_chars
        )

    def apply(self, span: Span) -> list[str]:
        """Bring `span` within limits; returns warnings, raises SpanRejected."""
        return self.fit(span) + self.token_warnings(span)

    def fit(self, span: Span) -> list[str]:
        """`apply` without the token-count checks, for a caller that reads the span's attributes
        anyway and then asks `token_warnings` with them (one pass over the protobuf less)."""
        warnings: list[str] = []
        # Each read of a repeated field builds a new wrapper (about 0.3 µs): read each once.
        attributes, events, links = span.attributes, span.events, span.links
        if events:
            for event in events:
                if event.time_unix_nano >= MAX_TIME_NS:
                    raise SpanRejected(
                        f"span {span.span_id.hex()}: an event time_unix_nano {event.time_unix_nano} is out of range"
                    )
        # Stored text can be longer than the wire bytes (base64 for bytes, JSON escapes in arrays:
        # up to 6 characters per byte), so only a span this small can skip the value checks.
        small = span.ByteSize() * 6 <= self.max_attribute_chars
        if len(attributes) > self.max_attributes:
            dropped = len(attributes) - self.max_attributes
            kept = sorted(attributes, key=lambda kv: not kv.key.startswith(_PRIORITY_PREFIXES))
            kept = [KeyValue(key=kv.key, value=kv.value) for kv in kept[: self.max_attributes]]
            del attributes[:]
            attributes.extend(kept)
            warnings.append(
                f"span {span.span_id.hex()}: {dropped} attribute(s) over the limit of {self.max_attributes} dropped"
            )
        if len(events) > self.max_events:
            warnings.append(
                f"span {span.span_id.hex()}: {len(events) - self.max_events} event(s) over the limit dropped"
            )
            del events[self.max_events :]
        if len(links) > self.max_links:
            warnings.append(
                f"span {span.span_id.hex()}: {len(links) - self.max_links} link(s) over the limit dropped"
            )
            del links[self.max_links :]
        if not small:
            truncated = sum(self._truncate(kv.value) for kv in attributes)
            truncated += sum(self._truncate(kv.value) for event in events for kv in event.attributes)
            if truncated:
                warnings.append(
                    f"span {span.span_id.hex()}: {truncated} attribute value(s) truncated to {self.max_attribute_chars} characters"
                )
        return warnings

    def token_warnings(self, span: Span, attributes: dict[str, Any] | None = None) -> list[str]:
        """A warning per gen_ai.usage.*tokens attribute that is not a token count, in attribute order.

        `attributes` are the span's attributes as read_attributes typed them after `fit`; they
        are used when they hold each of the span's keys once (else the protobuf is read again,
        so a key given twice is warned about twice, as `apply` does)."""
        if attributes is not None and len(attributes) == len(span.attributes):
            items: Iterable[tuple[str, Any]] = attributes.items()
        else:
            items = ((kv.key, any_value(kv.value)) for kv in span.attributes)
        warnings = []
        for key, value in items:
            if key.startswith(_TOKEN_PREFIX) and key.endswith("tokens") and not self._token_count_ok(value):
                warnings.append(
                    f"span {span.span_id.hex()}: {key} is not a token count in [0, {self.max_token_count}]; counted as 0"
                )
        return warnings

    def _truncate(self, value: AnyValue) -> bool:
        kind = value.WhichOneof("value")
        if kind == "string_value":
            if len(value.string_value) > self.max_attribute_chars:
                value.string_value = value.string_value[: self.max_attribute_chars]
                return True
        elif kind == "bytes_value":
            max_bytes = self.max_attribute_chars // 4 * 3  # stored as base64: 4 characters per 3 bytes
            if len(value.bytes_value) > max_bytes:
                value.bytes_value = value.bytes_value[:max_bytes]
                return True
        elif kind in ("array_value", "kvlist_value"):
            text = to_text(any_value(value))
            if len(text) > self.max_attribute_chars:
                value.string_value = text[: self.max_attribute_chars]
                return True
        return False

    def _token_count_ok(self, number: Any) -> bool:
        if isinstance(number, bool) or number is None:
            return False
        try:
            number = float(number)
        except (TypeError, ValueError):
            return False
        return math.isfinite(number) and 0 <= number <= self.max_token_count
