-- agent_costs on each shard, replicated within it: migrations/0085_agent_costs.sql (its header says
-- what it holds) with the Replicated engine. Filled by the view on the shard's agent_steps_local.
CREATE TABLE IF NOT EXISTS agent_costs_local ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String),
    Quarter DateTime64(9) CODEC(Delta, ZSTD(1)) COMMENT 'start of the quarter hour of the calls',
    ServiceName LowCardinality(String),
    AgentName LowCardinality(String),
    StepKind LowCardinality(String),
    Provider LowCardinality(String),
    Model LowCardinality(String) COMMENT 'ResponseModel, else RequestModel',
    ExperimentId LowCardinality(String),
    Variant LowCardinality(String),
    Calls SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    Spans SimpleAggregateFunction(groupUniqArrayArray, Array(UInt32)) COMMENT '32-bit hashes of the calls'' SpanIds',
    InputTokens SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    CachedInputTokens SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    CacheWriteTokens SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    OutputTokens SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    ReasoningTokens SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    CostUSD SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)) COMMENT 'unpriced calls count 0',
    UnpricedCalls SimpleAggregateFunction(sum, Int64) CODEC(T64, ZSTD(1)),
    UnpricedTokens SimpleAggregateFunction(sum, Int64) CODEC(T64, ZSTD(1)),
    ReportedCostSum SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)),
    ReportedCalls SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    FirstCall SimpleAggregateFunction(min, DateTime64(9)) CODEC(Delta, ZSTD(1))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(Quarter)
ORDER BY (Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant)
SETTINGS index_granularity = 8192, replicated_deduplication_window = 10000
