"""Experiment units with known metric values, written as the rows the collector would store.

Each unit is one run: an agent span (the run span, carrying the experiment and variant, its
duration, status and quality) and one model call inside it (tokens and cost). Durations are
whole nanoseconds, so the values the SQL reads back are exactly the ones generated here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from spanhouse.collector.rows import AGENT_STEPS_COLUMNS, SCORES_COLUMNS

START = dt.datetime(2026, 1, 5, 9, 0, 0)
START_NS = int(START.replace(tzinfo=dt.timezone.utc).timestamp()) * 1_000_000_000


@dataclass(frozen=True)
class Unit:
    """One run of one variant, with the values of every built-in metric."""

    index: int
    variant: str
    duration_ns: int = 1_000_000_000
    failed: bool = False
    tokens: int = 100
    cost: float | None = 0.001
    quality: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    user: str = ""
    session: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    start_offset_ns: int | None = None  # default: unit i starts i seconds after START
    experiment_id: str | None = None  # default: the experiment written

    @property
    def start_ns(self) -> int:
        offset = self.start_offset_ns if self.start_offset_ns is not None else self.index * 1_000_000_000
        return START_NS + offset

    def run_id(self, experiment: str) -> str:
        return hashlib.sha256(f"{experiment}\x00{self.index}".encode()).hexdigest()[:16]

    def value(self, metric: str) -> float | None:
        if metric == "success_rate":
            return 0.0 if self.failed else 1.0
        if metric == "duration":
            return self.duration_ns / 1e6
        if metric == "total_tokens":
            return float(self.tokens)
        if metric == "cost":
            return self.cost
        if metric == "quality":
            return self.quality
        return self.scores.get(metric.removeprefix("score:"))


def write_units(store, experiment: str, units: Sequence[Unit], *, tenant: str = "") -> None:
    """Insert the agent_steps (and scores) rows of `units`, column-oriented as the exporter does."""
    steps: list[tuple] = []
    scores: list[tuple] = []
    for unit in units:
        run_id = unit.run_id(experiment)
        trace_id = f"{run_id}{unit.index:016x}"
        stamp = unit.experiment_id if unit.experiment_id is not None else experiment
        common = {
            "Tenant": tenant,
            "TraceId": trace_id,
            "RunId": run_id,
            "ServiceName": "experiment-tests",
            "AgentName": "agent",
            "ExperimentId": stamp,
            "Variant": unit.variant,
            "SessionId": unit.session,
            "UserId": unit.user,
            "SourceConvention": "spanhouse",
        }
        steps.append(
            _row(
                common,
                Timestamp=unit.start_ns,
                SpanId=run_id,
                ParentSpanId="",
                SpanName="invoke_agent agent",
                StepKind="agent",
                IsModelCall=False,
                DurationMs=unit.duration_ns / 1e6,
                StatusCode="Error" if unit.failed else "Ok",
                ErrorType="generation_error" if unit.failed else "",
                QualityScore=unit.quality,
                Attributes=dict(unit.attributes),
            )
        )
        steps.append(
            _row(
                common,
                Timestamp=unit.start_ns + 1,
                SpanId=f"{(int(run_id, 16) ^ 0xABCDEF) & ((1 << 64) - 1):016x}",
                ParentSpanId=run_id,
                SpanName="chat model",
                StepKind="llm",
                IsModelCall=True,
                InputTokens=unit.tokens,
                CostUSD=unit.cost,
                DurationMs=0.000001,
                StatusCode="Ok",
                Attributes={},
            )
        )
        for name, value in unit.scores.items():
            scores.append(
                (tenant, unit.start_ns + 2, f"{unit.index:016x}", trace_id, "", run_id, "experiment-tests",
                 name, float(value), None, "test", "", {})
            )  # fmt: skip
    store.insert("agent_steps", list(zip(*steps, strict=True)), AGENT_STEPS_COLUMNS)
    if scores:
        store.insert("scores", list(zip(*scores, strict=True)), SCORES_COLUMNS)


_DEFAULTS = {
    "SpanName": "",
    "StepName": "",
    "Operation": "",
    "Provider": "",
    "RequestModel": "",
    "ResponseModel": "",
    "InputTokens": 0,
    "CachedInputTokens": 0,
    "CacheWriteTokens": 0,
    "OutputTokens": 0,
    "ReasoningTokens": 0,
    "CostUSD": None,
    "PriceId": "",
    "ReportedCostUSD": None,
    "ErrorType": "",
    "ErrorMessage": "",
    "QualityScore": None,
    "Confidence": None,
    "FinishReason": "",
}


def _row(common: dict, **values) -> tuple:
    merged = {**_DEFAULTS, **common, **values}
    return tuple(merged[column] for column in AGENT_STEPS_COLUMNS)
