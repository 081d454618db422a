-- What the evaluator must know of stored alerts: those with one of {keys} (fired once, they
-- never fire again) and, when {include_open} is 1, every open one, of {tenant} ('*' = every
-- tenant). FINAL merges each alert's partial rows; a key with no fire row yet (Kind NULL) is
-- left out.
SELECT
    Tenant AS tenant, DedupKey AS dedup_key, GroupKey AS group_key, PeriodStart AS period_start,
    Kind AS kind, Severity AS severity, Subject AS subject, Threshold AS threshold,
    Observed AS observed, Baseline AS baseline, Message AS message, Labels AS labels,
    FiredAt AS fired_at, FiredBy AS fired_by, ResolvedAt AS resolved_at, Delivery AS delivery
FROM alerts FINAL
WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
  AND (has({keys:Array(String)}, DedupKey) OR ({include_open:UInt8} = 1 AND ResolvedAt IS NULL))
  AND Kind IS NOT NULL
ORDER BY tenant, dedup_key
