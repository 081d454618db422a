-- agent_runs on each shard, replicated within it: migrations/0081_agent_runs.sql (its header says
-- what it holds) with the Replicated engine. Filled by the view on the shard's agent_steps_local.
CREATE TABLE IF NOT EXISTS agent_runs_local ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String),
    RunKey String CODEC(ZSTD(1)),
    TraceId SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    MinService SimpleAggregateFunction(min, LowCardinality(String)),
    MaxService SimpleAggregateFunction(max, LowCardinality(String)),
    FirstStart SimpleAggregateFunction(min, DateTime64(9)) CODEC(Delta, ZSTD(1)),
    LastStart SimpleAggregateFunction(max, DateTime64(9)) CODEC(Delta, ZSTD(1)),
    EndNs SimpleAggregateFunction(max, Int64) CODEC(Delta, ZSTD(1)) COMMENT 'latest step end, ns since the epoch',
    Copies SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    Spans SimpleAggregateFunction(groupUniqArrayArray, Array(UInt32)) COMMENT '32-bit hashes of the SpanIds',
    RunSpans SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    AgentSpans SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    Outermost SimpleAggregateFunction(max, Tuple(Float64, String, UInt8)) COMMENT '(duration, agent, failed) of the longest agent span',
    StatedAgent SimpleAggregateFunction(min, Nullable(String)) COMMENT 'least non-empty AgentName of the steps',
    RunSpanMs SimpleAggregateFunction(max, Nullable(Float64)) CODEC(ZSTD(1)),
    RunSpanStart SimpleAggregateFunction(max, Nullable(DateTime64(9))) CODEC(ZSTD(1)),
    ErrorSpans SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    Steps SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)) COMMENT 'rows but the run span',
    FailedSteps SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    InputTokens SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)) COMMENT 'input + cached + cache write, model calls',
    OutputTokens SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)) COMMENT 'output + reasoning, model calls',
    ModelCalls SimpleAggregateFunction(sum, Int64) CODEC(T64, ZSTD(1)),
    PricedCalls SimpleAggregateFunction(sum, Int64) CODEC(T64, ZSTD(1)),
    CostUSD SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)) COMMENT 'of the priced model calls',
    QualitySum SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)),
    QualityCount SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    ConfidenceSum SimpleAggregateFunction(sum, Float64) CODEC(ZSTD(1)),
    ConfidenceCount SimpleAggregateFunction(sum, UInt64) CODEC(T64, ZSTD(1)),
    InnermostError SimpleAggregateFunction(max, Tuple(DateTime64(9), String)) COMMENT '(start, ErrorType) of the latest-starting failed step'
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (Tenant, RunKey)
SETTINGS index_granularity = 8192, replicated_deduplication_window = 10000
