-- On each shard, parent links from inserts into the local spans table (same shard: both by trace).
CREATE MATERIALIZED VIEW IF NOT EXISTS span_links_traces_mv ON CLUSTER '{cluster}' TO span_links_local
AS SELECT
    Tenant,
    TraceId,
    SpanId,
    Timestamp,
    ParentSpanId,
    toUInt8(0) AS IsStep,
    toUInt8(0) AS IsAgent,
    '' AS AgentName,
    '' AS StampedRunId
FROM otel_traces_local
