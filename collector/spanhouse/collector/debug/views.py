"""Views of runs for people: the terminal tree, JSON, and the per-run and per-agent reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from rich.tree import Tree

from spanhouse.collector.debug.compare import align_steps, differences, summary
from spanhouse.collector.debug.document import Document, Node
from spanhouse.collector.debug.trace import Score, Span, Trace
from spanhouse.collector.reports import Reader, report_parameters, run_report


def span_facts(span: Span, total_ms: float) -> str:
    """One line of facts: duration, tokens, cost, model, critical-path share, error, warnings."""
    parts = [f"{span.duration_ms:,.1f} ms"]
    if span.model_call:
        parts.append(f"{span.input_tokens:,}→{span.output_tokens:,} tok")
        parts.append("cost ?" if span.cost_usd is None else f"${span.cost_usd:.6f}")
    if span.model:
        parts.append(span.model)
    if total_ms > 0 and span.critical_ms / total_ms >= 0.005:
        parts.append(f"critical {span.critical_ms / total_ms:.0%}")
    if span.quality is not None:
        parts.append(f"quality {span.quality:.2f}")
    if span.confidence is not None:
        parts.append(f"confidence {span.confidence:.2f}")
    if span.scores:
        parts.append("scored " + ", ".join(score_text(score) for score in span.scores))
    if span.failed:
        parts.append(f"ERROR {span.error_type}: {span.error_message}".rstrip(": "))
    if span.warnings:
        parts.append("warn " + ",".join(span.warnings))
    return "  ".join(parts)


def score_text(score: Score) -> str:
    """`helpfulness 0.8 (evaluator, confidence 0.7)`: a late score in a line of facts."""
    about = [score.source] if score.source else []
    if score.confidence is not None:
        about.append(f"confidence {score.confidence:.2f}")
    if score.comment:
        about.append(repr(score.comment))
    return f"{score.name} {score.value:g}" + (f" ({', '.join(about)})" if about else "")


def _score_document(span: Span, score: Score) -> dict[str, Any]:
    return {
        "span_id": span.span_id,
        "step": span.label,
        "target": score.target,
        "name": score.name,
        "value": score.value,
        "confidence": score.confidence,
        "source": score.source,
        "comment": score.comment,
        "at": _iso(score.at_ns),
    }


def _title(span: Span) -> str:
    kind = span.step_kind or "span"
    return f"[{kind}] {span.label}"


def rich_tree(trace: Trace, bottleneck_share: float = 0.2) -> Tree:
    total = trace.root.duration_ms
    hot = {id(b.span) for b in trace.bottlenecks(bottleneck_share)}

    def label(span: Span) -> Text:
        text = Text(_title(span), style="bold red" if span.failed else "bold")
        facts = span_facts(span, total)
        text.append("  " + facts, style="red" if span.failed else "dim" if id(span) not in hot else "yellow")
        if id(span) in hot:
            text.append("  ◆ bottleneck", style="bold yellow")
        return text

    tree = Tree(label(trace.root))
    stack = [(tree, child) for child in reversed(trace.root.children)]
    while stack:
        parent_node, span = stack.pop()
        node = parent_node.add(label(span))
        stack.extend((node, child) for child in reversed(span.children))
    return tree


def trace_document(trace: Trace, bottleneck_share: float = 0.2) -> dict[str, Any]:
    """The trace as JSON: summary, bottlenecks, errors, warnings and the spans with their parents."""
    total = trace.root.duration_ms
    return {
        "summary": summary(trace),
        "bottlenecks": [
            {
                "span_id": b.span.span_id,
                "step": b.span.label,
                "critical_ms": round(b.critical_ms, 3),
                "share": round(b.share, 4),
            }
            for b in trace.bottlenecks(bottleneck_share)
        ],
        "critical_path": [s.span_id for s in trace.critical_path()],
        "errors": [
            {"span_id": s.span_id, "step": s.label, "error_type": s.error_type, "message": s.error_message}
            for s in trace.errors
        ],
        "scores": [_score_document(span, score) for span, score in trace.scores],
        "spans": [
            {
                "span_id": s.span_id,
                "parent_span_id": s.parent_span_id,
                "name": s.name,
                "step_kind": s.step_kind,
                "step": s.label,
                "agent": s.agent,
                "start": _iso(s.start_ns),
                "duration_ms": round(s.duration_ms, 3),
                "status": s.status,
                "model": s.model,
                "input_tokens": s.input_tokens,
                "output_tokens": s.output_tokens,
                "cost_usd": s.cost_usd,
                "error_type": s.error_type,
                "error_message": s.error_message,
                "quality": s.quality,
                "confidence": s.confidence,
                "critical_ms": round(s.critical_ms, 3),
                "critical_share": round(s.critical_ms / total, 4) if total else 0.0,
                "warnings": s.warnings,
                "scores": [
                    {k: v for k, v in _score_document(s, score).items() if k not in ("span_id", "step")}
                    for score in s.scores
                ],
            }
            for s in trace.spans
        ],
    }


def comparison_document(traces: list[Trace]) -> dict[str, Any]:
    return {
        "runs": [summary(t) for t in traces],
        "differences": differences(traces),
        "steps": [
            {
                "kind": r.kind,
                "step": r.name,
                "occurrence": r.occurrence,
                "duration_ms": r.durations_ms,
                "tokens": r.tokens,
                "models": r.models,
                "failed": r.failed,
                "cost_usd": r.costs,
                "span_ids": r.span_ids,
                "differs": r.differs,
            }
            for r in align_steps(traces)
        ],
    }


def run_report_document(trace: Trace, bottleneck_share: float = 0.2) -> Document:
    s = summary(trace)
    doc = Document(f"Debugging report: run {trace.requested}")
    doc.paragraph(
        f"Agent {s['agent'] or '(none)'}, trace {s['trace_id']}, started {_iso(trace.root.start_ns)}: "
        f"{s['outcome']} after {s['duration_ms']:,.1f} ms, {s['steps']} steps, "
        f"{s['input_tokens']:,} input and {s['output_tokens']:,} output tokens, ${s['cost_usd']:.6f}"
        + (
            f" (not counting {s['unpriced_calls']} model call(s) whose model has no known price: "
            "`spanhouse prices unpriced` lists them)."
            if s["unpriced_calls"]
            else "."
        )
    )
    doc.heading("Bottlenecks (critical path)")
    doc.table(
        ["step", "kind", "critical ms", "share of run", "duration ms"],
        [
            [
                b.span.label,
                b.span.step_kind or "span",
                round(b.critical_ms, 3),
                f"{b.share:.1%}",
                round(b.span.duration_ms, 3),
            ]
            for b in trace.bottlenecks(bottleneck_share)
        ],
    )
    doc.paragraph(
        "Critical path: " + " → ".join(f"{p.label} ({p.critical_ms:,.1f} ms)" for p in trace.critical_path())
    )
    doc.heading("Errors")
    doc.bullets(
        [f"{e.label} ({e.step_kind or 'span'}): {e.error_type}: {e.error_message}" for e in trace.errors]
    )
    doc.heading("Warnings")
    doc.bullets([f"{w.label}: {', '.join(w.warnings)}" for w in trace.spans if w.warnings])
    doc.heading("Scores")
    doc.bullets([f"{span.label} ({score.target}): {score_text(score)}" for span, score in trace.scores])
    doc.heading("Trace")
    doc.tree(_node(trace))
    doc.heading("Recommendations")
    doc.bullets(_recommendations(trace, bottleneck_share))
    return doc


def _recommendations(trace: Trace, bottleneck_share: float) -> list[str]:
    out = []
    for b in trace.bottlenecks(bottleneck_share):
        out.append(
            f"{b.span.label} holds {b.share:.0%} of the run on the critical path: make it faster, cache it or run it in parallel."
        )
    for e in trace.errors:
        hint = {
            "timeout_error": "raise the timeout or add a retry with backoff",
            "tool_error": "check the tool's inputs and its backend",
            "validation_error": "tighten the prompt or the output schema",
            "generation_error": "check the provider's response and limits",
            "agent_error": "the agent's own code raised: the span's exception event has the stack trace",
        }.get(e.error_type, "inspect the error message")
        out.append(f"{e.label} failed with {e.error_type}: {hint}.")
    kinds = {w for s in trace.spans for w in s.warnings}
    if "high_token_usage" in kinds:
        out.append("Some model calls use many tokens: trim the context or summarize earlier turns.")
    if "low_confidence" in kinds or "quality_concern" in kinds:
        out.append(
            "Quality or confidence is low: review the prompt, the model choice or add an evaluation step."
        )
    return out


def _node(trace: Trace) -> Node:
    total = trace.root.duration_ms
    root = Node(f"{_title(trace.root)}  {span_facts(trace.root, total)}")
    stack = [(root, child) for child in reversed(trace.root.children)]
    while stack:
        parent, span = stack.pop()
        node = Node(f"{_title(span)}  {span_facts(span, total)}")
        parent.children.append(node)
        stack.extend((node, child) for child in reversed(span.children))
    return root


def agent_report_document(
    reader: Reader,
    agent: str,
    *,
    tenant: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    service: str = "",
) -> Document:
    """The agent's figures from the SQL reports, in one document (of one service, if given)."""

    def rows(name: str, **options: Any) -> list[dict[str, Any]]:
        params = report_parameters(
            tenant=tenant,
            since=since,
            until=until,
            name=name,
            options={"agent": agent, "service": service, **options},
        )
        return run_report(reader, name, params).dicts()

    doc = Document(f"Debugging report: agent {agent}")
    agents = rows("agents")
    if not agents:
        doc.paragraph("No executions of this agent in the range.")
        return doc
    perf = agents[0]
    bench = rows("benchmarks")
    per_run = {b["dimension"]: b for b in bench}
    doc.paragraph(
        f"{perf['executions']} executions (nested ones included), success rate {perf['success_rate']:.1%}, "
        f"p50 {perf['p50_ms']:,.1f} ms, p95 {perf['p95_ms']:,.1f} ms per execution. "
        + (
            f"Per run it starts ({per_run['steps_per_run']['runs']} runs): "
            f"{per_run['steps_per_run']['average']:g} steps, {per_run['tokens_per_run']['average']:g} tokens "
            f"and {per_run['response_time_ms']['average']:,.1f} ms on average, as in the benchmarks below."
            if per_run
            else "It starts no run of its own (it runs inside other agents' runs)."
        )
    )
    doc.heading("Benchmarks")
    doc.table(
        ["dimension", "average", "category", "excellent", "good", "acceptable", "poor"],
        [
            [
                b["dimension"],
                b["average"],
                b["category"],
                b["excellent_runs"],
                b["good_runs"],
                b["acceptable_runs"],
                b["poor_runs"],
            ]
            for b in bench
        ],
    )
    doc.heading("Quality trend")
    trend = rows("quality_trends")
    doc.bullets(
        [
            f"{t['trend']}: {t['scored']} scores, mean {t['avg_quality']}, slope {t['slope_per_day']}/day, t = {t['t_stat']} (critical {t['t_critical']})"
            for t in trend
        ]
    )
    doc.heading("Compared with peers")
    for p in rows("peers"):
        doc.bullets(
            [
                f"service {p['service']}, {p['peers']} peers",
                "strengths: " + (", ".join(p["strengths"]) or "none"),
                "weaknesses: " + (", ".join(p["weaknesses"]) or "none"),
            ]
        )
    doc.heading("Errors")
    errors = rows("errors")
    doc.table(
        ["error type", "errors", "propagated", "share", "runs", "last message"],
        [
            [e["error_type"], e["errors"], e["propagated"], e["share"], e["runs_affected"], e["last_message"]]
            for e in errors
        ],
    )
    doc.heading("Slowest steps")
    doc.table(
        ["kind", "step", "model", "calls", "failure rate", "p95 ms", "share of run time"],
        [
            [
                s["step_kind"],
                s["step"],
                s["model"],
                s["calls"],
                s["failure_rate"],
                s["p95_ms"],
                s["share_of_run_time"],
            ]
            for s in rows("steps")[:10]
        ],
    )
    doc.heading("Recent failed runs")
    doc.table(
        ["run", "started", "duration ms", "error type"],
        [
            [r["run_id"], r["started_at"], r["duration_ms"], r["error_type"]]
            for r in rows("executions", status="error", limit=10)
        ],
    )
    doc.heading("Warnings")
    warnings = rows("warnings", limit=20)
    doc.table(
        ["at", "step", "warnings", "duration ms", "tokens"],
        [[w["at"], w["step"], w["warnings"], w["duration_ms"], w["tokens"]] for w in warnings],
    )
    return doc


def _iso(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
