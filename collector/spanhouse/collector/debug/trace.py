"""One run's trace as a tree, with its critical path, bottlenecks, errors and warnings.

A trace is bounded (one run), so its spans are fetched once with the traces/spans job and
analysed here in Python; everything across many runs stays in SQL.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from spanhouse.collector.errors import ConfigError, SpanhouseError
from spanhouse.collector.reports import OPTIONS, Reader
from spanhouse.collector.store.sql import load_job

logger = logging.getLogger(__name__)

MAX_SPANS = 10_000
MAX_SCORES = 1_000
NS_PER_MS = 1_000_000


class TraceNotFound(SpanhouseError):
    """No stored span matches the given trace, run or span id."""


@dataclass(frozen=True)
class Score:
    """A score given after the fact (score_span / score_run) to a step or to the whole run."""

    name: str
    value: float
    confidence: float | None
    source: str
    comment: str
    at_ns: int
    target: str  # "step" or "run"


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    start_ns: int
    duration_ns: int
    status: str
    status_message: str
    step_kind: str = ""
    step: str = ""
    agent: str = ""
    run_id: str = ""
    model: str = ""
    model_call: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    error_type: str = ""
    error_message: str = ""
    quality: float | None = None
    confidence: float | None = None
    children: list[Span] = field(default_factory=list)
    critical_ms: float = 0.0  # this span's own time on the critical path
    warnings: list[str] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)  # late scores of this step (or run, on its root)

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns

    @property
    def duration_ms(self) -> float:
        return self.duration_ns / NS_PER_MS

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens if self.model_call else 0

    @property
    def failed(self) -> bool:
        return self.status == "Error"

    @property
    def label(self) -> str:
        return self.step or self.name

    def walk(self) -> list[Span]:
        """This span and its descendants, depth first, children in start order."""
        out, stack = [], [self]
        while stack:
            span = stack.pop()
            out.append(span)
            stack.extend(reversed(span.children))
        return out


def _default(name: str) -> float:
    return next(o.default for o in OPTIONS["warnings"] if o.name == name)


@dataclass(frozen=True)
class WarningThresholds:
    """When a span earns a warning; defaults are those of the warnings report."""

    low_confidence: float = _default("low_confidence")
    high_tokens: float = _default("high_tokens")
    slow_ms: float = _default("slow_ms")
    low_quality: float = _default("low_quality")

    def of(self, span: Span) -> list[str]:
        found = []
        if span.confidence is not None and span.confidence < self.low_confidence:
            found.append("low_confidence")
        if span.model_call and span.tokens > self.high_tokens:
            found.append("high_token_usage")
        if span.duration_ms > self.slow_ms:
            found.append("slow_execution")
        if span.quality is not None and span.quality < self.low_quality:
            found.append("quality_concern")
        return found


@dataclass
class Bottleneck:
    span: Span
    critical_ms: float
    share: float  # of the root's duration


@dataclass
class Trace:
    requested: str
    root: Span
    spans: list[Span]  # the root's subtree, depth first

    @property
    def trace_id(self) -> str:
        return self.root.trace_id

    @property
    def agent(self) -> str:
        return self.root.agent or next((s.agent for s in self.spans if s.agent), "")

    @property
    def failed(self) -> bool:
        if self.root.step_kind == "agent" or not self.root.step_kind:
            return self.root.failed
        return any(s.failed for s in self.spans)

    @property
    def steps(self) -> list[Span]:
        return [s for s in self.spans if s is not self.root and s.step_kind]

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.spans)

    @property
    def input_tokens(self) -> int:
        return sum(s.input_tokens for s in self.spans if s.model_call)

    @property
    def output_tokens(self) -> int:
        return sum(s.output_tokens for s in self.spans if s.model_call)

    @property
    def cost_usd(self) -> float:
        return sum(s.cost_usd or 0.0 for s in self.spans if s.model_call)

    @property
    def scores(self) -> list[tuple[Span, Score]]:
        """Every late score of the run and its steps, oldest first, with the span it is on."""
        found = [(span, score) for span in self.spans for score in span.scores]
        return sorted(found, key=lambda pair: pair[1].at_ns)

    @property
    def unpriced_calls(self) -> int:
        """Model calls whose model has no known price: cost_usd leaves them out."""
        return sum(1 for s in self.spans if s.model_call and s.cost_usd is None)

    @property
    def models(self) -> list[str]:
        return sorted({s.model for s in self.spans if s.model_call and s.model})

    @property
    def errors(self) -> list[Span]:
        """Failed spans where the failure started (no failed child)."""
        return [s for s in self.spans if s.failed and not any(c.failed for c in s.children)]

    def critical_path(self) -> list[Span]:
        """Spans with time on the critical path, in the order the path passes through them."""
        return sorted((s for s in self.spans if s.critical_ms > 0), key=lambda s: s.start_ns)

    def bottlenecks(self, min_share: float = 0.2) -> list[Bottleneck]:
        """Critical-path spans holding at least `min_share` of the run's duration, largest first."""
        total = self.root.duration_ms or 1.0
        found = [
            Bottleneck(s, s.critical_ms, s.critical_ms / total)
            for s in self.spans
            if s.critical_ms > 0 and s.critical_ms / total >= min_share
        ]
        return sorted(found, key=lambda b: (-b.critical_ms, b.span.start_ns))


def fetch_trace(
    reader: Reader, identifier: str, *, tenant: str = "", thresholds: WarningThresholds | None = None
) -> Trace:
    """The trace named by a trace id, a run id or a span id, rooted at that run or span if given."""
    identifier = identifier.strip().lower()
    if not identifier or any(c not in "0123456789abcdef" for c in identifier):
        raise ConfigError(f"{identifier!r} is not a trace, run or span id (hex digits)")
    trace_id = _trace_of(reader, identifier, tenant)
    result = reader.query(
        load_job("traces/spans"), {"tenant": tenant, "trace_id": trace_id, "max_spans": MAX_SPANS}
    )
    if not result.rows:
        raise TraceNotFound(f"no stored trace, run or span has id {identifier}")
    spans = [_span(row) for row in result.dicts()]
    if len(spans) == MAX_SPANS:
        logger.warning("trace %s has more than %d spans; showing the first", identifier, MAX_SPANS)
    trace = build_trace(identifier, spans, thresholds or WarningThresholds())
    _attach_scores(reader, trace, tenant)
    return trace


def _trace_of(reader: Reader, identifier: str, tenant: str) -> str:
    """The trace id `identifier` names: a trace or run id through the indexes, else a span id
    (read from the SpanId columns, which have none)."""
    for job in ("traces/trace_of", "traces/trace_of_span"):
        rows = reader.query(load_job(job), {"tenant": tenant, "id": identifier}).rows
        if rows:
            return str(rows[0][0])
    raise TraceNotFound(f"no stored trace, run or span has id {identifier}")


def _attach_scores(reader: Reader, trace: Trace, tenant: str) -> None:
    """Hang each late score on the step it scores, or a run's on the run's root span."""
    by_id = {span.span_id: span for span in trace.spans}
    run_ids = sorted({s.run_id for s in trace.spans if s.run_id} | {trace.trace_id})
    rows = reader.query(
        load_job("traces/scores"),
        {"tenant": tenant, "trace_id": trace.trace_id, "run_ids": run_ids, "max_scores": MAX_SCORES},
    ).dicts()
    for row in rows:
        step = row["span_id"]
        owner = by_id.get(step) if step else by_id.get(row["run_id"], trace.root)
        if owner is None:
            continue  # a step outside the part of the trace shown
        owner.scores.append(
            Score(
                name=row["name"],
                value=float(row["value"]),
                confidence=row["confidence"],
                source=row["source"] or "",
                comment=row["comment"] or "",
                at_ns=int(row["at_ns"]),
                target="step" if step else "run",
            )
        )


def build_trace(identifier: str, spans: list[Span], thresholds: WarningThresholds) -> Trace:
    by_id = {s.span_id: s for s in spans}
    for span in spans:
        span.children = []
    roots = []
    for span in sorted(spans, key=lambda s: (s.start_ns, s.span_id)):
        parent = by_id.get(span.parent_span_id)
        if parent is None or parent is span:
            roots.append(span)
        else:
            parent.children.append(span)
        span.warnings = thresholds.of(span)
    if identifier in by_id:
        root = by_id[identifier]
    else:
        run_roots = [s for s in spans if s.run_id == identifier and s.span_id == identifier]
        root = run_roots[0] if run_roots else _synthetic_root(identifier, roots)
    _mark_critical_path(root)
    return Trace(identifier, root, root.walk())


def _synthetic_root(identifier: str, roots: list[Span]) -> Span:
    """Several parentless spans (or a missing parent): hang them under one trace node."""
    if len(roots) == 1:
        return roots[0]
    start = min(s.start_ns for s in roots)
    end = max(s.end_ns for s in roots)
    return Span(
        trace_id=roots[0].trace_id,
        span_id="",
        parent_span_id="",
        name=f"trace {roots[0].trace_id}",
        service="",
        start_ns=start,
        duration_ns=end - start,
        status="Error" if any(s.failed for s in roots) else "Unset",
        status_message="",
        children=roots,
    )


def _mark_critical_path(root: Span) -> None:
    """Critical path as in Jaeger: walk back from the end, through the child that ends last.

    A span's own time on the path is the part of it during which none of its children on the
    path was running. Children that overlap are clipped to the time still uncovered.
    """
    for span in root.walk():
        span.critical_ms = 0.0
    own: dict[int, float] = defaultdict(float)
    stack: list[tuple[Span, int, int]] = [(root, root.start_ns, root.end_ns)]
    while stack:
        span, window_start, window_end = stack.pop()
        cursor = window_end
        for child in sorted(span.children, key=lambda c: (c.end_ns, c.start_ns), reverse=True):
            if cursor <= window_start:
                break
            child_start = max(child.start_ns, window_start)
            child_end = min(child.end_ns, cursor)
            if child_end <= child_start:
                continue
            own[id(span)] += cursor - child_end
            stack.append((child, child_start, child_end))
            cursor = child_start
        own[id(span)] += max(0, cursor - window_start)
    for span in root.walk():
        span.critical_ms = own.get(id(span), 0.0) / NS_PER_MS


def _span(row: dict[str, Any]) -> Span:
    return Span(
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        parent_span_id=row["parent_span_id"],
        name=row["span_name"],
        service=row["service"],
        start_ns=int(row["start_ns"]),
        duration_ns=int(row["duration_ns"]),
        status=row["status"],
        status_message=row["status_message"],
        step_kind=row["step_kind"] or "",
        step=row["step"] or "",
        agent=row["agent"] or "",
        run_id=row["run_id"] or "",
        model=row["model"] or "",
        model_call=bool(row["model_call"]),
        input_tokens=int(row["input_tokens"] or 0),
        output_tokens=int(row["output_tokens"] or 0),
        cost_usd=row["cost_usd"],
        error_type=row["error_type"] or ("" if row["status"] != "Error" else "unclassified"),
        error_message=row["error_message"] or row["status_message"] or "",
        quality=row["quality"],
        confidence=row["confidence"],
    )
