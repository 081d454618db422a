-- step_attribution on each shard, replicated within it: migrations/0055_step_attribution.sql (its
-- header states the contract) with the Replicated engine.
CREATE TABLE IF NOT EXISTS step_attribution_local ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)) COMMENT 'the step''s start, as in agent_steps',
    RunKey String CODEC(ZSTD(1)),
    AgentName LowCardinality(String) CODEC(ZSTD(1)),
    AgentSpanId String CODEC(ZSTD(1)) COMMENT 'the nearest enclosing agent span; empty without one',
    IsRunSpan Bool,
    Complete Bool,
    Final Bool,
    Version UInt64 COMMENT 'bit 62: Final; below it the resolution time in ns'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', Version)
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, TraceId, SpanId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
