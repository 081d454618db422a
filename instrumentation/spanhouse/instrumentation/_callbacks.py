"""Step callbacks: record a step that already finished, for frameworks that report steps themselves.

The counterpart of the AI SDK's ``onStepFinish``: a framework hands over a finished step (its
model, usage, tool calls, finish reason, timing) and :func:`record_step` writes it as one span
under the current agent run, with a child span per tool call, back-dated to when it happened.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import _attributes as attr
from . import _content, _steps
from ._usage import usage_attributes

_TOOL_CALL_KEYS = frozenset({"name", "id", "duration_s", "error", "arguments", "result"})


@dataclass(frozen=True)
class SpanRef:
    """Ids of a recorded span, in the hex form the tables store (for scoring it later)."""

    trace_id: str
    span_id: str

    @classmethod
    def of(cls, span: trace.Span) -> SpanRef:
        ctx = span.get_span_context()
        return cls(format(ctx.trace_id, "032x"), format(ctx.span_id, "016x"))


@dataclass(frozen=True)
class _ToolCall:
    name: str
    call_id: str | None
    duration_ns: int
    error: str | None
    arguments: Any
    result: Any


def _epoch_ns(value: float | datetime, name: str) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1e9)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{name} must be a datetime or epoch seconds, got {value!r}")
    return int(value * 1e9)


def _duration_ns(value: float, name: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return int(value * 1e9)


def _times(
    duration_s: float | None, start_time: float | datetime | None, end_time: float | datetime | None
) -> tuple[int, int]:
    """(start, end) in epoch ns from any two of the three; with none, a zero-length step now."""
    if duration_s is not None and start_time is not None and end_time is not None:
        raise ValueError("give at most two of start_time, end_time and duration_s")
    duration = _duration_ns(duration_s, "duration_s") if duration_s is not None else None
    start = _epoch_ns(start_time, "start_time") if start_time is not None else None
    end = _epoch_ns(end_time, "end_time") if end_time is not None else None
    if start is not None and end is not None:
        if end < start:
            raise ValueError("end_time must not be before start_time")
        return start, end
    if start is not None:
        return start, start + (duration or 0)
    end = end if end is not None else time.time_ns()
    return end - (duration or 0), end


def _within_parent(start_ns: int, end_ns: int, parent: otel_context.Context) -> tuple[int, int]:
    """The step's times moved inside the span it is recorded under: never starting before it.

    A step handed over at the top of an agent with ``duration_s=1.2`` would otherwise start 1.2 s
    before its agent, and every figure built on the run (its duration, the step's share of it)
    would disagree with the run's own span.
    """
    parent_start = getattr(trace.get_current_span(parent), "start_time", None)  # SDK spans have it
    if isinstance(parent_start, int) and start_ns < parent_start:
        start_ns = parent_start
        end_ns = max(end_ns, start_ns)
    return start_ns, end_ns


def _tool_call(call: str | Mapping[str, Any]) -> _ToolCall:
    if isinstance(call, str):
        call = {"name": call}
    if not isinstance(call, Mapping):
        raise TypeError(f"a tool call is a name or a mapping with a 'name', got {type(call).__name__}")
    unknown = set(call) - _TOOL_CALL_KEYS
    if unknown:
        raise ValueError(
            f"unknown tool call keys {sorted(unknown)}; allowed: {', '.join(sorted(_TOOL_CALL_KEYS))}"
        )
    name = call.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"a tool call needs a non-empty 'name', got {name!r}")
    duration = call.get("duration_s")
    error = call.get("error")
    return _ToolCall(
        name=name,
        call_id=None if call.get("id") is None else str(call["id"]),
        duration_ns=_duration_ns(duration, "a tool call's duration_s") if duration is not None else 0,
        error=None if error is None else str(error),
        arguments=call.get("arguments"),
        result=call.get("result"),
    )


def _set_error(span: trace.Span, error: BaseException | str, when_ns: int) -> None:
    if isinstance(error, BaseException):
        error_type = type(error).__qualname__
        span.record_exception(error, timestamp=when_ns)
        message = f"{error_type}: {error}"
    else:
        error_type, message = "_OTHER", str(error)
    span.set_attribute(attr.ERROR_TYPE, error_type)
    span.set_status(Status(StatusCode.ERROR, message))


def record_step(
    name: str,
    *,
    kind: str | None = None,
    model: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    provider: str | None = None,
    response_model: str | None = None,
    operation: str = "chat",
    finish_reason: str | None = None,
    tool_calls: Sequence[str | Mapping[str, Any]] = (),
    input_messages: Sequence[Mapping[str, Any]] | None = None,
    output_messages: Sequence[Mapping[str, Any]] | None = None,
    duration_s: float | None = None,
    start_time: float | datetime | None = None,
    end_time: float | datetime | None = None,
    error: BaseException | str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> SpanRef | None:
    """Record one finished step under the current span (normally an agent run).

    With ``model`` the step is a model call carrying its usage (counts follow
    :func:`record_usage`: input includes cache, output includes reasoning). Timing is any
    two of ``start_time``/``end_time`` (datetime or epoch seconds) and ``duration_s``; with
    none the step is a zero-length span now. A step never starts before the span it is recorded
    under (its agent): an earlier start is moved up to the parent's, so call it when the step has
    ended, inside the agent, and its times agree with the run's. Each tool call (a name, or a mapping with
    ``name`` and optional ``id``, ``duration_s``, ``error``, ``arguments``, ``result``)
    becomes a child ``execute_tool`` span ending with the step. Messages (GenAI convention
    shape: ``{"role", "parts": [...]}``), tool arguments and results are kept only when
    content capture is on. Returns the step's ids, or None when not traced.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("record_step() needs a non-empty step name")
    step_kind = kind if kind is not None else (attr.KIND_LLM if model is not None else attr.KIND_OTHER)
    if step_kind not in attr.STEP_KINDS:
        raise ValueError(f"step kind must be one of {sorted(attr.STEP_KINDS)}, got {step_kind!r}")
    if model is None and any(
        (input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens)
    ):
        raise ValueError("token counts need the model that used them (model=...)")
    span_attributes: dict[str, Any] = {
        key: value for key, value in (attributes or {}).items() if value is not None
    }
    if model is not None:
        span_attributes.update(
            usage_attributes(
                model=model,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cached_input_tokens=cached_input_tokens,
                cache_write_tokens=cache_write_tokens,
                reasoning_tokens=reasoning_tokens,
                provider=provider,
                response_model=response_model,
                finish_reason=finish_reason,
                operation=operation,
            )
        )
    elif finish_reason is not None:
        span_attributes[attr.GEN_AI_RESPONSE_FINISH_REASONS] = [finish_reason]
    start_ns, end_ns = _times(duration_s, start_time, end_time)
    calls = [_tool_call(call) for call in tool_calls]
    span_attributes[attr.STEP_KIND] = step_kind
    span_attributes[attr.STEP_NAME] = name
    if calls:
        span_attributes[attr.STEP_TOOL_CALLS] = [call.name for call in calls]
    if _content.capture_enabled():
        if input_messages is not None:
            span_attributes[attr.GEN_AI_INPUT_MESSAGES] = _content.encode(list(input_messages))
        if output_messages is not None:
            span_attributes[attr.GEN_AI_OUTPUT_MESSAGES] = _content.encode(list(output_messages))

    parent = otel_context.get_current()
    start_ns, end_ns = _within_parent(start_ns, end_ns, parent)
    run = _steps.run_of(parent)
    if run is not None:
        span_attributes[attr.RUN_ID] = run[0]
        span_attributes[attr.GEN_AI_AGENT_NAME] = run[1]
    tracer = _steps._get_tracer()
    span = tracer.start_span(
        name, context=parent, kind=SpanKind.INTERNAL, attributes=span_attributes, start_time=start_ns
    )
    if not span.is_recording():
        span.end(end_time=end_ns)
        return None
    if error is not None:
        _set_error(span, error, end_ns)
    step_context = trace.set_span_in_context(span, parent)
    for call in calls:
        _record_tool_call(tracer, step_context, call, run, start_ns, end_ns)
    span.end(end_time=end_ns)
    return SpanRef.of(span)


def _record_tool_call(
    tracer: trace.Tracer,
    parent: otel_context.Context,
    call: _ToolCall,
    run: Any,
    step_start_ns: int,
    end_ns: int,
) -> None:
    tool_attributes: dict[str, Any] = {
        attr.STEP_KIND: attr.KIND_TOOL,
        attr.GEN_AI_OPERATION_NAME: attr.OPERATION_EXECUTE_TOOL,
        attr.GEN_AI_TOOL_NAME: call.name,
    }
    if call.call_id is not None:
        tool_attributes[attr.GEN_AI_TOOL_CALL_ID] = call.call_id
    if run is not None:
        tool_attributes[attr.RUN_ID] = run[0]
        tool_attributes[attr.GEN_AI_AGENT_NAME] = run[1]
    if _content.capture_enabled():
        if call.arguments is not None:
            tool_attributes[attr.GEN_AI_TOOL_CALL_ARGUMENTS] = _content.encode(call.arguments)
        if call.result is not None:
            tool_attributes[attr.GEN_AI_TOOL_CALL_RESULT] = _content.encode(call.result)
    span = tracer.start_span(
        f"{attr.OPERATION_EXECUTE_TOOL} {call.name}",
        context=parent,
        kind=SpanKind.INTERNAL,
        attributes=tool_attributes,
        start_time=max(end_ns - call.duration_ns, step_start_ns),  # within its step
    )
    if call.error is not None:
        _set_error(span, call.error, end_ns)
    span.end(end_time=end_ns)
