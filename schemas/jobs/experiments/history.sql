-- The verdicts an experiment has had, newest first: one row per stored evaluation with the
-- primary metric's best non-control variant (smallest adjusted p-value) beside the verdict.
SELECT
    EvaluatedAt AS evaluated_at,
    any(Verdict) AS verdict,
    any(Winner) AS winner,
    any(Reasons) AS reasons,
    any(SrmPValue) AS srm_p_value,
    any(SrmFlagged) AS srm_flagged,
    argMinIf(Variant, ifNull(PAdjusted, 2), Role = 'primary' AND NOT IsControl) AS best_variant,
    argMinIf(PValueKind, ifNull(PAdjusted, 2), Role = 'primary' AND NOT IsControl) AS p_value_kind,
    minIf(PAdjusted, Role = 'primary' AND NOT IsControl) AS primary_p_adjusted,
    sumIf(Units, Role = 'primary') AS units
FROM experiment_results
WHERE Tenant = {tenant:String} AND Experiment = {name:String}
GROUP BY EvaluatedAt
ORDER BY evaluated_at DESC
LIMIT {limit:UInt32}
