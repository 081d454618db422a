-- agent_model_calls on each shard, replicated within it: migrations/0115_agent_model_calls.sql (its
-- header says what it holds) with the Replicated engine. Filled by the view on the shard's agent_steps_local.
CREATE TABLE IF NOT EXISTS agent_model_calls_local ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String),
    Quarter DateTime64(9) CODEC(Delta, ZSTD(1)) COMMENT 'start of the quarter hour of the calls',
    ServiceName LowCardinality(String),
    AgentName LowCardinality(String),
    StepName String CODEC(ZSTD(1)),
    Provider LowCardinality(String),
    Model LowCardinality(String) COMMENT 'ResponseModel, else RequestModel',
    Calls SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    Spans SimpleAggregateFunction(groupUniqArrayArray, Array(UInt32)) COMMENT '32-bit hashes of the calls'' SpanIds',
    OkCalls SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)) COMMENT 'calls not in Error',
    QualitySum SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)) COMMENT 'of the calls'' own QualityScores',
    Scored SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)) COMMENT 'calls with a QualityScore',
    CostUSD SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)) COMMENT 'unpriced calls count 0',
    Costed SimpleAggregateFunction(sum, Int64) CODEC(T64, ZSTD(1)) COMMENT 'calls with a cost',
    ByPrice SimpleAggregateFunction(sumMap, Tuple(Array(String), Array(Int64), Array(Int64), Array(Int64), Array(Int64), Array(Int64), Array(Int64)))
        COMMENT 'per PriceId: calls, input, cached input, cache write, output and reasoning tokens',
    FirstCall SimpleAggregateFunction(min, DateTime64(9)) CODEC(Delta, ZSTD(1)),
    LastCall SimpleAggregateFunction(max, DateTime64(9)) CODEC(Delta, ZSTD(1))
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(Quarter)
ORDER BY (Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model)
SETTINGS index_granularity = 8192, replicated_deduplication_window = 10000
