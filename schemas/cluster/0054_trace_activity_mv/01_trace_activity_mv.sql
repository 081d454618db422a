-- On each shard, fills trace_activity from inserts into the local span_links (the cascade of both views).
CREATE MATERIALIZED VIEW IF NOT EXISTS trace_activity_mv ON CLUSTER '{cluster}' TO trace_activity_local
AS SELECT
    now64(3) AS InsertedAt,
    Tenant,
    TraceId
FROM span_links_local
GROUP BY Tenant, TraceId
