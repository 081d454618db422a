"""Scores given after the fact: user feedback or an evaluator's verdict on a run or a step.

A finished span can't take new attributes, so a late score travels as a small span of its own,
``spanhouse.score``, naming its target by id (and linking to it when the step is known); the
collector stores it in the ``scores`` table. For a score known while the span is still open,
:func:`spanhouse.instrumentation.score` on the current span is enough.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags

from spanhouse.contract import SCORE_SPAN_NAME
from spanhouse.contract import SCORING_PREFIX as _PREFIX

from . import _steps

_HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True)
class RunRef:
    """Where the current run is, to score it later: hex ids as the tables store them."""

    trace_id: str
    run_id: str


def current_run() -> RunRef | None:
    """The run the caller is in (keep it to score the run once feedback arrives), or None."""
    ctx = otel_context.get_current()
    run = _steps.run_of(ctx)
    span_context = trace.get_current_span(ctx).get_span_context()
    if run is None or not span_context.is_valid:
        return None
    return RunRef(format(span_context.trace_id, "032x"), run[0])


def _hex_id(value: str | int, digits: int, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} must be a hex string or an int, got {type(value).__name__}")
    if isinstance(value, int):
        if not 0 < value < 16**digits:
            raise ValueError(f"{name} {value} is out of range for {digits} hex digits")
        return format(value, f"0{digits}x")
    if len(value) != digits or not _HEX.match(value) or int(value, 16) == 0:
        raise ValueError(f"{name} must be {digits} hex digits (not all zero), got {value!r}")
    return value.lower()


def _check(value: float, confidence: float | None, name: str) -> tuple[float, float | None]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"score value must be a finite number, got {value!r}")
    if confidence is not None and (
        isinstance(confidence, bool)
        or not isinstance(confidence, (int, float))
        or not 0.0 <= confidence <= 1.0
    ):
        raise ValueError(f"confidence must be within [0, 1], got {confidence!r}")
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(f"score name must be a non-empty string without padding, got {name!r}")
    return float(value), None if confidence is None else float(confidence)


def _emit(
    target: dict[str, str],
    value: float,
    *,
    name: str,
    confidence: float | None,
    source: str | None,
    comment: str | None,
    attributes: Mapping[str, Any] | None,
    link: SpanContext | None,
) -> bool:
    checked, checked_confidence = _check(value, confidence, name)
    span_attributes: dict[str, Any] = {
        key: item for key, item in (attributes or {}).items() if item is not None
    }
    span_attributes.update({_PREFIX + key: item for key, item in target.items()})
    span_attributes[_PREFIX + "name"] = name
    span_attributes[_PREFIX + "value"] = checked
    if checked_confidence is not None:
        span_attributes[_PREFIX + "confidence"] = checked_confidence
    if source:
        span_attributes[_PREFIX + "source"] = source
    if comment:
        span_attributes[_PREFIX + "comment"] = comment
    # A root span of its own: the score is an event about the target, not a step inside it.
    span = _steps._get_tracer().start_span(
        SCORE_SPAN_NAME,
        context=otel_context.Context(),
        kind=SpanKind.INTERNAL,
        attributes=span_attributes,
        links=[Link(link)] if link is not None else None,
    )
    recorded = span.is_recording()
    span.end()
    return recorded


def score_span(
    trace_id: str | int,
    span_id: str | int,
    value: float,
    *,
    name: str = "quality",
    confidence: float | None = None,
    source: str | None = None,
    comment: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> bool:
    """Score a step by its ids (hex as stored, or ints), at any time after it ran.

    ``source`` says who scored (``user``, ``evaluator``...). Returns False when tracing is
    off (nothing is sent); bad ids or values raise ValueError either way.
    """
    trace_hex = _hex_id(trace_id, 32, "trace_id")
    span_hex = _hex_id(span_id, 16, "span_id")
    link = SpanContext(int(trace_hex, 16), int(span_hex, 16), is_remote=True, trace_flags=TraceFlags(1))
    return _emit(
        {"trace_id": trace_hex, "span_id": span_hex},
        value,
        name=name,
        confidence=confidence,
        source=source,
        comment=comment,
        attributes=attributes,
        link=link,
    )


def score_run(
    run_id: str | int | RunRef,
    value: float,
    *,
    trace_id: str | int | None = None,
    name: str = "quality",
    confidence: float | None = None,
    source: str | None = None,
    comment: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> bool:
    """Score a whole run by its run id (or the :class:`RunRef` from :func:`current_run`)."""
    if isinstance(run_id, RunRef):
        trace_id = run_id.trace_id if trace_id is None else trace_id
        run_id = run_id.run_id
    # A run id is its root agent's span id, or the trace id of a trace with no agent span.
    if isinstance(run_id, str) and len(run_id) == 32:
        target = {"run_id": _hex_id(run_id, 32, "run_id")}
    else:
        target = {"run_id": _hex_id(run_id, 16, "run_id")}
    if trace_id is not None:
        target["trace_id"] = _hex_id(trace_id, 32, "trace_id")
    return _emit(
        target,
        value,
        name=name,
        confidence=confidence,
        source=source,
        comment=comment,
        attributes=attributes,
        link=None,
    )
