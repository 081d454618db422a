-- agent_step_groups on each shard, replicated within it: migrations/0097_agent_step_groups.sql (its
-- header says what it holds) with the Replicated engine. Filled by the view on the shard's agent_steps_local.
CREATE TABLE IF NOT EXISTS agent_step_groups_local ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String),
    Quarter DateTime64(9) CODEC(Delta, ZSTD(1)) COMMENT 'start of the quarter hour of the steps',
    ServiceName LowCardinality(String),
    StepKind LowCardinality(String),
    StepName String CODEC(ZSTD(1)),
    RequestModel LowCardinality(String),
    IsRunSpan Bool,
    Calls SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    Spans SimpleAggregateFunction(groupUniqArrayArray, Array(UInt32)) COMMENT '32-bit hashes of the steps'' SpanIds',
    Failures SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    DurationMs SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)) COMMENT 'summed',
    Durations SimpleAggregateFunction(groupArrayArray, Array(Float64)) CODEC(LZ4) COMMENT 'every step''s DurationMs'
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(Quarter)
ORDER BY (Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan)
SETTINGS index_granularity = 8192, replicated_deduplication_window = 10000
