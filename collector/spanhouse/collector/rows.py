"""The rows the collector writes, one typed record per table, and the batch that carries them.

Part of the bottom layer: it imports nothing of spanhouse, so receivers, processors, the queue
and the exporters can all share these types without importing each other.

A row is a NamedTuple: a plain tuple at run time (no per-row dict, and `zip(*rows)` turns a
list of them into insert columns), with a name and a type per column for readers and the type
checker. Field order is the insert column order; a field `Events_Name` is the Nested column
`Events.Name`. tests/integration/test_schema.py checks names and types against the DDL, so a
migration that adds a column fails there until the record has it too. Rows are built in one
place per table (processors/spans.py, processors/genai.py, processors/scores.py), which keeps
the seam narrow for a later move to columnar batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

StringMap = dict[str, str]


class TraceRow(NamedTuple):
    """One otel_traces row (the OpenTelemetry Collector clickhouseexporter layout)."""

    Timestamp: int  # DateTime64(9) as nanoseconds since the epoch
    TraceId: str
    SpanId: str
    ParentSpanId: str
    TraceState: str
    SpanName: str
    SpanKind: str
    ServiceName: str
    ResourceAttributes: StringMap
    ScopeName: str
    ScopeVersion: str
    SpanAttributes: StringMap
    Duration: int  # nanoseconds
    StatusCode: str
    StatusMessage: str
    Events_Timestamp: list[int]
    Events_Name: list[str]
    Events_Attributes: list[StringMap]
    Links_TraceId: list[str]
    Links_SpanId: list[str]
    Links_TraceState: list[str]
    Links_Attributes: list[StringMap]
    Tenant: str


class StepRow(NamedTuple):
    """One agent_steps row: a GenAI span normalized whatever convention produced it."""

    Tenant: str
    Timestamp: int
    TraceId: str
    SpanId: str
    ParentSpanId: str
    RunId: str
    ServiceName: str
    AgentName: str
    SpanName: str
    StepName: str
    Operation: str
    StepKind: str
    IsModelCall: bool
    Provider: str
    RequestModel: str
    ResponseModel: str
    InputTokens: int
    CachedInputTokens: int
    CacheWriteTokens: int
    OutputTokens: int
    ReasoningTokens: int
    CostUSD: float | None
    PriceId: str
    ReportedCostUSD: float | None
    DurationMs: float
    StatusCode: str
    ErrorType: str
    ErrorMessage: str
    QualityScore: float | None
    Confidence: float | None
    ExperimentId: str
    Variant: str
    SessionId: str
    UserId: str
    FinishReason: str
    SourceConvention: str
    Attributes: StringMap


class ScoreRow(NamedTuple):
    """One scores row: a quality score given to a run or a step, from a `spanhouse.score` span."""

    Tenant: str
    Timestamp: int
    ScoreId: str
    TraceId: str
    SpanId: str
    RunId: str
    ServiceName: str
    Name: str
    Value: float
    Confidence: float | None
    Source: str
    Comment: str
    Attributes: StringMap


def column_names(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The insert column names of a row record's fields (`Events_Name` -> `Events.Name`)."""
    return tuple(name.replace("_", ".") for name in fields)


OTEL_TRACES_COLUMNS = column_names(TraceRow._fields)
AGENT_STEPS_COLUMNS = column_names(StepRow._fields)
SCORES_COLUMNS = column_names(ScoreRow._fields)


@dataclass
class RowBatch:
    """The rows of one request (or of several, grouped for one insert), per table."""

    traces: list[TraceRow] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)
    scores: list[ScoreRow] = field(default_factory=list)
