"""Routes `spanhouse.score` spans into the scores table instead of agent_steps.

A score given after the fact (user feedback, an evaluator) travels as a small span of its own,
named `spanhouse.score`, whose `spanhouse.scoring.*` attributes name the target run or step and
the value. The span itself stays in otel_traces like any other; here it becomes a scores row.
"""

from __future__ import annotations

import math
import re
from typing import Any

from spanhouse.collector.processors.attributes import text_map
from spanhouse.collector.processors.spans import FlatSpan, SpanContext, SpanRejected
from spanhouse.collector.rows import ScoreRow
from spanhouse.contract import (
    SCORE_SPAN_NAME,
)
from spanhouse.contract import SCORING_COMMENT as COMMENT
from spanhouse.contract import SCORING_CONFIDENCE as CONFIDENCE
from spanhouse.contract import SCORING_NAME as NAME
from spanhouse.contract import SCORING_PREFIX as PREFIX
from spanhouse.contract import SCORING_RUN_ID as RUN_ID
from spanhouse.contract import SCORING_SOURCE as SOURCE
from spanhouse.contract import SCORING_SPAN_ID as SPAN_ID
from spanhouse.contract import SCORING_TRACE_ID as TRACE_ID
from spanhouse.contract import SCORING_VALUE as VALUE

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
_MAX_NAME = 200


def is_score_span(span: FlatSpan) -> bool:
    return span.name == SCORE_SPAN_NAME and VALUE in span.attributes


def score_row(span: FlatSpan, ctx: SpanContext) -> ScoreRow:
    """The scores row of a `spanhouse.score` span; SpanRejected names what is wrong."""
    attrs = span.attributes
    trace_id = _text(attrs.get(TRACE_ID)).lower()
    span_id = _text(attrs.get(SPAN_ID)).lower()
    run_id = _text(attrs.get(RUN_ID))
    if trace_id and not _TRACE_ID.match(trace_id):
        raise SpanRejected(f"score {TRACE_ID} must be 32 hex digits, got {trace_id!r}")
    if span_id and not _SPAN_ID.match(span_id):
        raise SpanRejected(f"score {SPAN_ID} must be 16 hex digits, got {span_id!r}")
    if span_id and not trace_id:
        raise SpanRejected(f"score of span {span_id} needs {TRACE_ID} too")
    if not trace_id and not run_id:
        raise SpanRejected(f"score span names no target: set {TRACE_ID} (+ {SPAN_ID}) or {RUN_ID}")
    name = _text(attrs.get(NAME)) or "quality"
    if len(name) > _MAX_NAME:
        raise SpanRejected(f"score {NAME} longer than {_MAX_NAME} characters")
    value = _number(attrs.get(VALUE))
    if value is None:
        raise SpanRejected(f"score {VALUE} must be a finite number, got {attrs.get(VALUE)!r}")
    confidence = _number(attrs.get(CONFIDENCE)) if CONFIDENCE in attrs else None
    if CONFIDENCE in attrs and (confidence is None or not 0.0 <= confidence <= 1.0):
        raise SpanRejected(f"score {CONFIDENCE} must be within [0, 1], got {attrs.get(CONFIDENCE)!r}")
    extra = {key: value for key, value in attrs.items() if not key.startswith(PREFIX)}
    return ScoreRow(
        ctx.tenant,
        span.start_ns,
        span.span_id,
        trace_id,
        span_id,
        run_id,
        ctx.service_name,
        name,
        value,
        confidence,
        _text(attrs.get(SOURCE)),
        _text(attrs.get(COMMENT)),
        text_map(extra),
    )


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
