-- Alerts fired since {since} with at least one channel still pending or retrying: the work of
-- the deliverers. Delivery values are "NNN <time> <state>[: detail]" (see the alerts migration).
SELECT
    Tenant AS tenant, DedupKey AS dedup_key, GroupKey AS group_key, PeriodStart AS period_start,
    Kind AS kind, Severity AS severity, Subject AS subject, Threshold AS threshold,
    Observed AS observed, Baseline AS baseline, Message AS message, Labels AS labels,
    FiredAt AS fired_at, FiredBy AS fired_by, ResolvedAt AS resolved_at, Delivery AS delivery
FROM alerts FINAL
WHERE Kind IS NOT NULL
  AND FiredAt >= {since:DateTime64(3)}
  AND arrayExists(v -> match(v, '^[0-9]+ [^ ]+ (pending|retrying)'), mapValues(Delivery))
ORDER BY fired_at, tenant, dedup_key
LIMIT 1000
