-- Fills trace_activity on every insert into span_links (from either of its views).
CREATE MATERIALIZED VIEW IF NOT EXISTS trace_activity_mv TO trace_activity
AS SELECT
    now64(3) AS InsertedAt,
    Tenant,
    TraceId
FROM span_links
GROUP BY Tenant, TraceId
