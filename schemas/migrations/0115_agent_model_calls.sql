-- Model calls per quarter hour and per (tenant, service, agent, step name, provider, model): what
-- the recommendations report sums (its per-model, priced and per-agent figures), so it reads a row
-- per group and quarter instead of every call. Filled by agent_model_calls_mv from every insert
-- into agent_steps; read through the agent_model_calls_resolved view, which takes the steps
-- wherever a row cannot be trusted. Built like agent_costs (0085 says why quarter hours, why only
-- stamped calls, and how Calls against the Spans hashes finds a call stored twice).
-- - OkCalls: calls not in Error. QualitySum and Scored: the calls' own QualityScores (a call
--   without one takes its run's mean in the report, from agent_runs' UnscoredCalls).
-- - CostUSD and Costed (calls with a cost) are signed sums, and ByPrice holds per PriceId the
--   calls and the input, cached input, cache write, output and reasoning tokens as signed sums:
--   a re-price moves calls from one PriceId to another and changes their costs, and corrects them
--   by adding rows (jobs/rollups/model_calls_reprice.sql), since its ALTER UPDATE reaches no view.
--   The report prices each PriceId's tokens at its latest prices (sums of products are products
--   of sums).
CREATE TABLE IF NOT EXISTS agent_model_calls
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Quarter)
ORDER BY (Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000
