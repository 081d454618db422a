"""What differs between two or more runs: steps, models, tokens, durations and outcome."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from spanhouse.collector.debug.trace import Span, Trace


def step_key(span: Span) -> tuple[str, str]:
    return (span.step_kind or "span", span.label)


def summary(trace: Trace) -> dict[str, Any]:
    return {
        "id": trace.requested,
        "trace_id": trace.trace_id,
        "agent": trace.agent,
        "outcome": "error" if trace.failed else "ok",
        "duration_ms": round(trace.root.duration_ms, 3),
        "steps": len(trace.steps),
        "models": trace.models,
        "input_tokens": trace.input_tokens,
        "output_tokens": trace.output_tokens,
        "cost_usd": round(trace.cost_usd, 6),
        "unpriced_calls": trace.unpriced_calls,  # model calls with no known price: not in cost_usd
        "errors": sorted({s.error_type for s in trace.errors}),
    }


@dataclass
class StepRow:
    """One step (kind, name, occurrence) across the compared runs; None where a run lacks it."""

    kind: str
    name: str
    occurrence: int
    durations_ms: list[float | None]
    tokens: list[int | None]
    models: list[str | None]
    failed: list[bool | None]
    costs: list[float | None] = field(default_factory=list)  # USD of model calls; 0 for other steps
    span_ids: list[str | None] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        present = [d is not None for d in self.durations_ms]
        return (
            not all(present)
            or len({m for m in self.models if m is not None}) > 1
            or len({f for f in self.failed if f is not None}) > 1
            or len({t for t in self.tokens if t is not None}) > 1
            or len({c for c in self.costs if c is not None}) > 1
        )


def _step_cost(span: Span | None) -> float | None:
    """USD of a model call, 0 for other steps, None where a run lacks the step."""
    if span is None:
        return None
    return round(span.cost_usd or 0.0, 6) if span.model_call else 0.0


def align_steps(traces: list[Trace]) -> list[StepRow]:
    """Steps matched by kind, name and how many times that step came before.

    Rows follow the first run's order; a step the first run lacks is placed right after the
    step that preceded it in the run that has it, so an inserted step shows where it happened.
    """
    per_trace: list[dict[tuple[str, str, int], Span]] = []
    for trace in traces:
        seen: Counter[tuple[str, str]] = Counter()
        keyed = {}
        for span in sorted(trace.steps, key=lambda s: s.start_ns):
            base = step_key(span)
            key = (*base, seen[base])
            seen[base] += 1
            keyed[key] = span
        per_trace.append(keyed)
    order = _merged_order([list(keyed) for keyed in per_trace])
    rows = []
    for key in order:
        spans = [keyed.get(key) for keyed in per_trace]
        rows.append(
            StepRow(
                kind=key[0],
                name=key[1],
                occurrence=key[2],
                durations_ms=[round(s.duration_ms, 3) if s else None for s in spans],
                tokens=[s.tokens if s else None for s in spans],
                models=[s.model if s else None for s in spans],
                failed=[s.failed if s else None for s in spans],
                costs=[_step_cost(s) for s in spans],
                span_ids=[s.span_id if s else None for s in spans],
            )
        )
    return rows


def differences(traces: list[Trace]) -> list[str]:
    """Plain sentences naming what differs from the first run to each other run, in the order the
    runs were given: `A → B: duration 23.7 → 10.6 ms (-55%)`."""
    base, mine = traces[0], summary(traces[0])
    out = []
    for other in traces[1:]:
        theirs = summary(other)
        name = f"{base.requested} → {other.requested}"
        found = _outcome_changes(mine, theirs) + _step_changes(base, other) + _figure_changes(mine, theirs)
        out += [f"{name}: {change}" for change in found]
    return out


def _outcome_changes(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    def listed(values: list[str]) -> str:
        return ", ".join(values) or "none"

    found = []
    if theirs["outcome"] != mine["outcome"]:
        found.append(f"outcome {mine['outcome']} → {theirs['outcome']}")
    if theirs["agent"] != mine["agent"]:
        found.append(f"agent {mine['agent']!r} → {theirs['agent']!r}")
    if theirs["models"] != mine["models"]:
        found.append(f"models {listed(mine['models'])} → {listed(theirs['models'])}")
    if theirs["errors"] != mine["errors"]:
        found.append(f"errors {listed(mine['errors'])} → {listed(theirs['errors'])}")
    return found


def _step_changes(base: Trace, other: Trace) -> list[str]:
    base_steps = Counter(step_key(s) for s in base.steps)
    other_steps = Counter(step_key(s) for s in other.steps)
    only_other = sorted((other_steps - base_steps).elements())
    only_base = sorted((base_steps - other_steps).elements())
    found = []
    if only_other:
        found.append("extra steps " + ", ".join(f"{k}:{n}" for k, n in only_other))
    if only_base:
        found.append("missing steps " + ", ".join(f"{k}:{n}" for k, n in only_base))
    return found


def _figure_changes(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    found = []
    for key, label, unit in (
        ("duration_ms", "duration", " ms"),
        ("input_tokens", "input tokens", ""),
        ("output_tokens", "output tokens", ""),
        ("cost_usd", "cost", ""),
    ):
        before, after = mine[key], theirs[key]
        if before == after:
            continue
        change = f" ({(after - before) / before:+.0%})" if before else ""
        if key == "cost_usd":
            found.append(f"{label} {_cost(mine)} → {_cost(theirs)}{_unpriced_note(mine, theirs, change)}")
        else:
            found.append(f"{label} {before:g} → {after:g}{unit}{change}")
    return found


def _cost(run: dict[str, Any]) -> str:
    """`$0.0012`, or `$0.0012 + ?` when some of the run's model calls have no known price."""
    return f"${run['cost_usd']:g}" + (" + ?" if run["unpriced_calls"] else "")


def _unpriced_note(before: dict[str, Any], after: dict[str, Any], change: str) -> str:
    """The relative change, or why there is none: a cost that leaves calls out is not comparable."""
    counts = (before["unpriced_calls"], after["unpriced_calls"])
    if not any(counts):
        return change
    return f" (? = {counts[0]} and {counts[1]} model call(s) with no known price, not counted)"


def _merged_order(sequences: list[list[tuple[str, str, int]]]) -> list[tuple[str, str, int]]:
    """Every key once: the first sequence's order, later keys after their predecessor there."""
    after: dict[tuple[str, str, int] | None, list[tuple[str, str, int]]] = defaultdict(list)
    known: set[tuple[str, str, int]] = set()
    for sequence in sequences:
        previous = None
        for key in sequence:
            if key not in known:
                known.add(key)
                # ahead of what already follows `previous`: this key came right after it
                after[previous].insert(0, key)
            previous = key
    order, stack = [], list(reversed(after[None]))
    while stack:
        key = stack.pop()
        order.append(key)
        stack.extend(reversed(after.get(key, [])))
    return order
