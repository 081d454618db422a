"""The winner rule, applied to the rows evaluate.sql returns.

A variant wins when, all at once:
- its primary metric is significant after Holm correction (p_adjusted < alpha) in the metric's
  good direction; when several variants qualify, the one with the largest improvement wins;
- none of its guard metrics is significantly worse (unadjusted p < alpha: a guard protects, so
  the correction must not make it harder to trip);
- the sample-ratio-mismatch test is not flagged (p >= 0.001): a broken split invalidates every
  comparison, whatever the p-values say;
- every variant has at least the minimum sample of units with a primary value.
The control wins when every other variant is significantly worse on the primary metric.
Otherwise the verdict is "no winner yet", with every reason that applies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spanhouse.collector.experiments.definition import Definition
from spanhouse.collector.experiments.metrics import metric

SRM_ALPHA = 0.001
WINNER, NO_WINNER = "winner", "no_winner_yet"


@dataclass(frozen=True)
class Verdict:
    """The decision and why; `notes` are facts worth knowing that do not block a winner."""

    winner: str | None
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    srm_p: float | None
    srm_flagged: bool
    min_sample_reached: bool
    power_line: str
    p_value_kind: str

    @property
    def status(self) -> str:
        return WINNER if self.winner is not None else NO_WINNER

    def document(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "winner": self.winner,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "srm_p_value": self.srm_p,
            "srm_flagged": self.srm_flagged,
            "min_sample_reached": self.min_sample_reached,
            "power": self.power_line,
            "primary_p_value_kind": self.p_value_kind,
        }


def decide(definition: Definition, rows: Sequence[dict[str, Any]], *, power: float = 0.8) -> Verdict:
    """The verdict on `definition` from its evaluate.sql rows."""
    primary = [r for r in rows if r["metric"] == definition.primary]
    treatments = [r for r in primary if not r["is_control"]]
    kind = "always_valid" if definition.sequential else "fixed_horizon"
    if not primary:
        return Verdict(
            None,
            (f"no units yet: no finished run carries experiment {definition.name!r}",),
            (),
            None,
            False,
            False,
            "",
            kind,
        )
    reasons: list[str] = []
    notes = _notes(rows[0])
    srm_p = _number(rows[0].get("srm_p"))
    srm_flagged = srm_p is not None and srm_p < SRM_ALPHA
    if srm_p is not None and srm_flagged:
        reasons.append(_srm_reason(definition, rows[0], srm_p))
    counts = {r["variant"]: int(r["n"]) for r in primary}
    short = [
        f"{v} has {counts.get(v, 0)}" for v in definition.variants if counts.get(v, 0) < definition.min_sample
    ]
    if short:
        reasons.append(
            f"minimum sample not reached: {', '.join(short)} of {definition.min_sample} {_units(definition)} "
            f"with a {definition.primary} value"
        )
    winner, why_not = _best(definition, rows, treatments)
    reasons.extend(why_not)
    if winner is not None and (srm_flagged or short):
        winner = None
    return Verdict(
        winner,
        tuple(reasons) if winner is None else (),
        tuple(notes),
        srm_p,
        srm_flagged,
        not short,
        _power_line(definition, treatments, power),
        kind,
    )


def _best(
    definition: Definition, rows: Sequence[dict[str, Any]], treatments: list[dict[str, Any]]
) -> tuple[str | None, list[str]]:
    """The best qualifying variant on the primary metric (or the control), and why none is."""
    alpha = definition.alpha
    significant = [r for r in treatments if _below(r.get("p_adjusted"), alpha)]
    better = [r for r in significant if r.get("better") is True]
    worse = [r for r in significant if r.get("better") is False]
    reasons = []
    qualified = []
    for row in better:
        blocked = [
            g
            for g in rows
            if g["role"] == "guard"
            and g["variant"] == row["variant"]
            and g.get("better") is False
            and _below(g.get("p_fixed_horizon"), alpha)
        ]
        if blocked:
            shown = ", ".join(f"{g['metric']} (p = {_p(g['p_fixed_horizon'])})" for g in blocked)
            reasons.append(
                f"{row['variant']} is better on {definition.primary} but significantly worse on guard {shown}"
            )
        else:
            qualified.append(row)
    if qualified:
        sign = metric(definition.primary).better
        best = max(qualified, key=lambda r: (float(r["diff"] or 0.0) * sign, r["variant"]))
        return best["variant"], []
    if treatments and len(worse) == len(treatments) and not better:
        return definition.control, []
    if not better:
        tested = [r for r in treatments if r.get("p_adjusted") is not None]
        if tested:
            closest = min(tested, key=lambda r: float(r["p_adjusted"]))
            reasons.append(
                f"no variant is significantly better than {definition.control} on {definition.primary} "
                f"after Holm correction (closest: {closest['variant']}, adjusted p = {_p(closest['p_adjusted'])}, "
                f"alpha {alpha:g})"
            )
        else:
            reasons.append(
                f"{definition.primary} cannot be tested yet: each arm needs two units with a value"
            )
    return None, reasons


def _srm_reason(definition: Definition, row: dict[str, Any], srm_p: float) -> str:
    observed = row.get("srm_observed") or []
    total = sum(observed) or 1.0
    seen = "/".join(f"{100 * o / total:.1f}" for o in observed)
    wanted = "/".join(f"{w:g}" for w in definition.weights)
    return (
        f"sample ratio mismatch: units split {seen} % against the configured {wanted} "
        f"(chi-square p = {_p(srm_p)} < {SRM_ALPHA}); find why assignment or logging loses units "
        "before trusting any comparison"
    )


def _notes(row: dict[str, Any]) -> list[str]:
    notes = []
    if row.get("mixed_units"):
        notes.append(f"{row['mixed_units']} unit(s) recorded more than one variant and were left out")
    if row.get("unknown_variant_units"):
        notes.append(
            f"{row['unknown_variant_units']} unit(s) recorded a variant the definition does not name"
        )
    return notes


def _power_line(definition: Definition, treatments: list[dict[str, Any]], power: float) -> str:
    """The power line, e.g. "about N more runs per variant to detect a 2-point change ..."."""
    needed = [r for r in treatments if r.get("units_needed") is not None and r.get("target_effect")]
    if not needed:
        return ""
    row = max(needed, key=lambda r: int(r["units_needed"]))
    have = min(int(r["n"]) for r in treatments)
    effect = _effect(definition, float(row["target_effect"]))
    more = int(row["units_needed"]) - have
    mde = _number(row.get("mde"))
    detectable = f"; detectable now: {_effect(definition, mde)}" if mde is not None else ""
    if more <= 0:
        return (
            f"the sample is large enough to detect {effect} in {definition.primary} "
            f"(power {power:.0%}, alpha {definition.alpha:g}){detectable}"
        )
    return (
        f"about {more} more {_units(definition)} per variant to detect {effect} in {definition.primary} "
        f"(power {power:.0%}, alpha {definition.alpha:g}){detectable}"
    )


def _effect(definition: Definition, value: float) -> str:
    kind = metric(definition.primary).kind
    if kind == "rate":
        return f"a {100 * value:.3g}-point change"
    unit = {"duration": " ms", "cost": " USD", "total_tokens": " tokens"}.get(definition.primary, "")
    return f"a change of {value:.4g}{unit}"


def _units(definition: Definition) -> str:
    return {"run": "runs", "user": "users", "session": "sessions"}.get(definition.unit, "units")


def _below(value: Any, alpha: float) -> bool:
    number = _number(value)
    return number is not None and number < alpha


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _p(value: Any) -> str:
    number = _number(value)
    return "n/a" if number is None else f"{number:.3g}"
