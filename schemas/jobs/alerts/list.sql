-- Alerts of {tenant} ('*' = every tenant), newest first: only open ones when {open_only} = 1,
-- only of {kind} unless it is '', fired in [since, until), at most {limit}.
SELECT
    Tenant AS tenant, DedupKey AS dedup_key, GroupKey AS group_key, PeriodStart AS period_start,
    Kind AS kind, Severity AS severity, Subject AS subject, Threshold AS threshold,
    Observed AS observed, Baseline AS baseline, Message AS message, Labels AS labels,
    FiredAt AS fired_at, FiredBy AS fired_by, ResolvedAt AS resolved_at, Delivery AS delivery
FROM alerts FINAL
WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
  AND Kind IS NOT NULL
  AND ({open_only:UInt8} = 0 OR ResolvedAt IS NULL)
  AND ({kind:String} = '' OR Kind = {kind:String})
  AND FiredAt >= {since:DateTime64(3)} AND FiredAt < {until:DateTime64(3)}
ORDER BY fired_at DESC, tenant, dedup_key
LIMIT {limit:UInt32}
