-- agent_failures on each shard, replicated within it: migrations/0092_agent_failures.sql (its
-- header says what it holds) with the Replicated engine. Filled by the view on the shard's
-- agent_steps_local.
CREATE TABLE IF NOT EXISTS agent_failures_local ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    AgentName LowCardinality(String) CODEC(ZSTD(1)),
    StepName String CODEC(ZSTD(1)),
    ErrorType LowCardinality(String) CODEC(ZSTD(1)),
    ErrorMessage String CODEC(ZSTD(1)),
    RunKey String CODEC(ZSTD(1)),
    IsStamped Bool
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, Timestamp, TraceId, SpanId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000
