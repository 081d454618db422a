-- On each shard, fills the local lookup from inserts into the local spans table (the Distributed
-- table forwards each insert to one replica, and replication copies the result).
CREATE MATERIALIZED VIEW IF NOT EXISTS otel_traces_trace_id_ts_mv ON CLUSTER '{cluster}' TO otel_traces_trace_id_ts_local
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM otel_traces_local
WHERE TraceId != ''
GROUP BY TraceId
