"""spanhouse's own instrumentation (`spanhouse.*` beside OTel `gen_ai.*`).

Counting: a span is a model call when `record_usage` marked it (`spanhouse.model_call`);
agent, tool and plain step spans never count usage. Usage itself is read from the `gen_ai.*`
keys `record_usage` writes (OTel buckets: input includes cache, output includes reasoning;
`record_usage` rejects counts that break that rule).
"""

from __future__ import annotations

from typing import Any

from spanhouse.collector.processors.conventions.base import Reading, number, text

NAME = "spanhouse"

STEP_KINDS = frozenset({"llm", "tool", "agent", "retrieval", "embedding", "other"})

KEYS = frozenset(
    {
        "spanhouse.step.kind",
        "spanhouse.step.name",
        "spanhouse.run.id",
        "spanhouse.model_call",
        "spanhouse.quality.score",
        "spanhouse.quality.confidence",
        "spanhouse.experiment.id",
        "spanhouse.experiment.variant",
    }
)


def detect(attrs: dict[str, Any], namespaces: frozenset[str], span_name: str, scope_name: str) -> bool:
    return "spanhouse.step.kind" in attrs or "spanhouse.run.id" in attrs


def read(attrs: dict[str, Any], span_name: str) -> Reading:
    declared = (text(attrs.get("spanhouse.step.kind")) or "").lower()
    marked = attrs.get("spanhouse.model_call")
    return Reading(
        kind=declared if declared in STEP_KINDS else None,
        model_call=True if marked is True or marked == "true" else None,
        step_name=text(attrs.get("spanhouse.step.name")),
        run_id=text(attrs.get("spanhouse.run.id")),
        quality_score=number(attrs.get("spanhouse.quality.score")),
        confidence=number(attrs.get("spanhouse.quality.confidence")),
        experiment_id=text(attrs.get("spanhouse.experiment.id")),
        variant=text(attrs.get("spanhouse.experiment.variant")),
    )
