"""Prompt and completion content: off unless asked for, and size-limited when on.

Content follows the OpenTelemetry GenAI conventions (``gen_ai.input.messages``,
``gen_ai.output.messages``, ``gen_ai.system_instructions``, ``gen_ai.tool.call.arguments`` /
``.result``). It is captured only when ``configure(capture_content=True)`` or the standard
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` variable turns it on; the GenAI
instrumentors read the same variable. Each content attribute is cut to a maximum number of
characters (``configure(content_max_chars=...)`` or ``SPANHOUSE_CONTENT_MAX_CHARS``) on its way
to the exporter, so one long conversation cannot blow up a batch.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import Span

logger = logging.getLogger(__name__)

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""Standard GenAI switch: ``true``/``span_only``/``span_and_event``/``event_only`` turn capture on."""
MAX_CHARS_ENV = "SPANHOUSE_CONTENT_MAX_CHARS"
"""Largest content attribute kept, in characters. Default: 16384."""
DEFAULT_MAX_CHARS = 16384
# Value handed to the instrumentors when configure(capture_content=True) turns capture on.
INSTRUMENTOR_CAPTURE_MODE = "span_only"

_ON_VALUES = frozenset({"true", "1", "span_only", "span_and_event", "event_only"})
CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.prompt",
    "gen_ai.completion",
)

# Set by configure(); None means "ask the environment".
_capture: bool | None = None
_max_chars: int | None = None


def set_options(capture: bool | None, max_chars: int | None) -> None:
    """Record configure()'s choice; None keeps deferring to the environment."""
    global _capture, _max_chars
    if capture is not None and not isinstance(capture, bool):
        raise TypeError(f"capture_content must be a bool, got {type(capture).__name__}")
    if max_chars is not None and (
        isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1
    ):
        raise ValueError(f"content_max_chars must be an int >= 1, got {max_chars!r}")
    _capture, _max_chars = capture, max_chars
    if capture is not None:
        # The GenAI instrumentors read only the environment; the argument wins over it.
        os.environ[CAPTURE_ENV] = INSTRUMENTOR_CAPTURE_MODE if capture else "no_content"


def capture_enabled() -> bool:
    if _capture is not None:
        return _capture
    return os.environ.get(CAPTURE_ENV, "").strip().lower() in _ON_VALUES


def max_chars() -> int:
    if _max_chars is not None:
        return _max_chars
    raw = os.environ.get(MAX_CHARS_ENV, "").strip()
    if raw:
        try:
            value = int(raw)
            if value >= 1:
                return value
        except ValueError:
            pass
        logger.warning("ignoring %s=%r: expected an int >= 1", MAX_CHARS_ENV, raw)
    return DEFAULT_MAX_CHARS


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    marker = f"...[truncated {len(text) - limit} chars]"
    return text[:limit] + marker


def encode(value: Any) -> str:
    """Content as a (JSON, unless already text) string within the size limit."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return truncate(text, max_chars())


class ContentLimitSpanProcessor(SpanProcessor):
    """Cuts content attributes to the size limit before handing spans to ``downstream``.

    Finished spans are immutable, so a span with an over-long content attribute is passed on
    as a copy; every other span is passed on as it is.
    """

    def __init__(self, downstream: SpanProcessor) -> None:
        self._downstream = downstream

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self._downstream.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        attributes = span.attributes
        if attributes:
            limit = max_chars()
            long_keys = [
                key
                for key in CONTENT_KEYS
                if isinstance(attributes.get(key), str) and len(attributes[key]) > limit  # type: ignore[arg-type]
            ]
            if long_keys:
                span = _with_attributes(
                    span,
                    {**attributes, **{key: truncate(attributes[key], limit) for key in long_keys}},  # type: ignore[arg-type]
                )
        self._downstream.on_end(span)

    def shutdown(self) -> None:
        self._downstream.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._downstream.force_flush(timeout_millis)


def _with_attributes(span: ReadableSpan, attributes: dict[str, Any]) -> ReadableSpan:
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
