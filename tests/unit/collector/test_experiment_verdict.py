"""The winner rule on hand-made result rows: each condition blocks a winner on its own."""

from __future__ import annotations

from typing import Any

from spanhouse.collector.experiments import define
from spanhouse.collector.experiments.verdict import decide

DEFINITION = define("x", "control=50,candidate=50", primary="quality", guards="cost", min_sample=100)


def row(metric: str, variant: str, **values: Any) -> dict[str, Any]:
    base = {
        "metric": metric,
        "variant": variant,
        "role": DEFINITION.role(metric),
        "is_control": variant == "control",
        "n": 500,
        "units": 500,
        "p_value": None,
        "p_fixed_horizon": None,
        "p_adjusted": None,
        "better": None,
        "diff": None,
        "mde": 0.01,
        "units_needed": 400,
        "target_effect": 0.035,
        "srm_p": 0.5,
        "srm_observed": [500.0, 500.0],
        "mixed_units": 0,
        "unknown_variant_units": 0,
    }
    return {**base, **values}


def rows(**overrides: Any) -> list[dict[str, Any]]:
    primary = {"p_value": 0.001, "p_fixed_horizon": 0.0001, "p_adjusted": 0.002, "better": True, "diff": 0.05}
    guard = {"p_value": 0.4, "p_fixed_horizon": 0.4, "p_adjusted": 0.4, "better": False, "diff": 0.001}
    primary.update(overrides.pop("primary", {}))
    guard.update(overrides.pop("guard", {}))
    built = [
        row("quality", "control"),
        row("quality", "candidate", **primary),
        row("cost", "control"),
        row("cost", "candidate", **guard),
    ]
    return [{**r, **overrides} for r in built]


def test_a_significant_improvement_with_no_blocker_wins() -> None:
    verdict = decide(DEFINITION, rows())
    assert verdict.winner == "candidate" and verdict.status == "winner" and verdict.reasons == ()
    assert verdict.p_value_kind == "always_valid"
    assert verdict.power_line.startswith("the sample is large enough to detect a change of 0.035 in quality")


def test_not_significant_after_correction_is_no_winner_yet() -> None:
    verdict = decide(DEFINITION, rows(primary={"p_adjusted": 0.06}))
    assert verdict.winner is None and verdict.status == "no_winner_yet"
    assert (
        "no variant is significantly better than control on quality after Holm correction"
        in verdict.reasons[0]
    )


def test_a_significant_guard_regression_blocks() -> None:
    verdict = decide(DEFINITION, rows(guard={"p_fixed_horizon": 0.01}))
    assert verdict.winner is None
    assert verdict.reasons == (
        "candidate is better on quality but significantly worse on guard cost (p = 0.01)",
    )


def test_a_guard_that_improved_significantly_does_not_block() -> None:
    assert decide(DEFINITION, rows(guard={"p_fixed_horizon": 0.01, "better": True})).winner == "candidate"


def test_srm_blocks_and_names_the_split() -> None:
    verdict = decide(DEFINITION, rows(srm_p=1e-9, srm_observed=[700.0, 300.0]))
    assert verdict.winner is None and verdict.srm_flagged
    assert verdict.reasons[0].startswith(
        "sample ratio mismatch: units split 70.0/30.0 % against the configured 50/50"
    )


def test_the_minimum_sample_blocks() -> None:
    short = rows(primary={"n": 40})
    verdict = decide(DEFINITION, short)
    assert verdict.winner is None and not verdict.min_sample_reached
    assert "minimum sample not reached: candidate has 40 of 100 runs" in verdict.reasons[0]


def test_the_control_wins_when_every_other_variant_is_significantly_worse() -> None:
    assert decide(DEFINITION, rows(primary={"better": False, "diff": -0.05})).winner == "control"


def test_the_power_line_counts_the_units_still_needed() -> None:
    verdict = decide(DEFINITION, rows(primary={"p_adjusted": 0.3, "n": 150, "units_needed": 1200}))
    assert verdict.power_line.startswith(
        "about 1050 more runs per variant to detect a change of 0.035 in quality"
    )


def test_no_rows_means_no_units_yet() -> None:
    verdict = decide(DEFINITION, [])
    assert verdict.winner is None and "no units yet" in verdict.reasons[0]
