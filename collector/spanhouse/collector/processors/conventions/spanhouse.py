"""spanhouse's own instrumentation (`spanhouse.*` beside OTel `gen_ai.*`).

Counting: a span is a model call when `record_usage` marked it (`spanhouse.model_call`);
agent, tool and plain step spans never count usage. Usage itself is read from the `gen_ai.*`
keys `record_usage` writes (OTel buckets: input includes cache, output includes reasoning;
`record_usage` rejects counts that break that rule).
"""

from __future__ import annotations

from typing import Any

from spanhouse.collector.processors.conventions.base import Reading, number, text
from spanhouse.contract import (
    EXPERIMENT_ID,
    EXPERIMENT_VARIANT,
    MODEL_CALL,
    QUALITY_CONFIDENCE,
    QUALITY_SCORE,
    RUN_ID,
    STEP_KIND,
    STEP_KINDS,
    STEP_NAME,
)

NAME = "spanhouse"

KEYS = frozenset(
    {
        STEP_KIND,
        STEP_NAME,
        RUN_ID,
        MODEL_CALL,
        QUALITY_SCORE,
        QUALITY_CONFIDENCE,
        EXPERIMENT_ID,
        EXPERIMENT_VARIANT,
    }
)


def detect(attrs: dict[str, Any], namespaces: frozenset[str], span_name: str, scope_name: str) -> bool:
    return STEP_KIND in attrs or RUN_ID in attrs


def read(attrs: dict[str, Any], span_name: str) -> Reading:
    declared = (text(attrs.get(STEP_KIND)) or "").lower()
    marked = attrs.get(MODEL_CALL)
    return Reading(
        kind=declared if declared in STEP_KINDS else None,
        model_call=True if marked is True or marked == "true" else None,
        step_name=text(attrs.get(STEP_NAME)),
        run_id=text(attrs.get(RUN_ID)),
        quality_score=number(attrs.get(QUALITY_SCORE)),
        confidence=number(attrs.get(QUALITY_CONFIDENCE)),
        experiment_id=text(attrs.get(EXPERIMENT_ID)),
        variant=text(attrs.get(EXPERIMENT_VARIANT)),
    )
