"""Evaluations as experiment_results rows: the statistics and the verdict at each evaluation time."""

from __future__ import annotations

from collections.abc import Sequence

from spanhouse.collector.experiments.evaluation import Evaluation

RESULTS_COLUMNS = (
    "Tenant",
    "Experiment",
    "EvaluatedAt",
    "Metric",
    "Variant",
    "Role",
    "IsControl",
    "Test",
    "Units",
    "N",
    "Mean",
    "Sd",
    "CiLow",
    "CiHigh",
    "Diff",
    "DiffCiLow",
    "DiffCiHigh",
    "RelDiff",
    "RelDiffCiLow",
    "RelDiffCiHigh",
    "PValue",
    "PValueKind",
    "PFixedHorizon",
    "PAdjusted",
    "Significant",
    "Better",
    "Mde",
    "UnitsNeeded",
    "TargetEffect",
    "SrmPValue",
    "SrmFlagged",
    "Verdict",
    "Winner",
    "Reasons",
)


def result_rows(tenant: str, evaluations: Sequence[Evaluation]) -> list[tuple]:
    """experiment_results rows of `evaluations` (RESULTS_COLUMNS order)."""
    rows = []
    for evaluation in evaluations:
        verdict = evaluation.verdict
        alpha = evaluation.definition.alpha
        for r in evaluation.rows:
            p_adjusted = r.get("p_adjusted")
            rows.append(
                (
                    tenant,
                    evaluation.definition.name,
                    evaluation.evaluated_at,
                    r["metric"],
                    r["variant"],
                    r["role"],
                    bool(r["is_control"]),
                    r["test"],
                    int(r["units"]),
                    int(r["n"]),
                    r["mean"],
                    r["sd"],
                    r["ci_low"],
                    r["ci_high"],
                    r["diff"],
                    r["diff_ci_low"],
                    r["diff_ci_high"],
                    r["rel_diff"],
                    r["rel_diff_ci_low"],
                    r["rel_diff_ci_high"],
                    r["p_value"],
                    r["p_value_kind"],
                    r["p_fixed_horizon"],
                    p_adjusted,
                    p_adjusted is not None and p_adjusted < alpha,
                    r["better"],
                    r["mde"],
                    r["units_needed"],
                    r["target_effect"],
                    verdict.srm_p,
                    verdict.srm_flagged,
                    verdict.status,
                    verdict.winner or "",
                    list(verdict.reasons),
                )
            )
    return rows
