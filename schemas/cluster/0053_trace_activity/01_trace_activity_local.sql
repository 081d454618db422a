-- trace_activity on each shard, replicated within it: migrations/0053_trace_activity.sql with the
-- Replicated engine.
CREATE TABLE IF NOT EXISTS trace_activity_local ON CLUSTER '{cluster}'
(
    InsertedAt DateTime64(3) CODEC(Delta, ZSTD(1)),
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1))
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(InsertedAt)
ORDER BY (InsertedAt, Tenant, TraceId)
TTL toDateTime(InsertedAt) + INTERVAL 7 DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
