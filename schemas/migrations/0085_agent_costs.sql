-- Model calls per quarter hour and per (tenant, service, agent, step kind, provider, model,
-- experiment, variant): what the cost reports (costs, cost_trends) sum, so they read a row per
-- group and quarter instead of every call. Filled by agent_costs_mv from every insert into
-- agent_steps; read through the agent_costs_resolved view, which takes the steps wherever a row
-- cannot be trusted.
-- - Quarter hours: every calendar bucket the reports use (local hours, days, weeks, months in
--   any time zone) is a union of quarter hours, as every zone's offset is a multiple of 15 minutes.
-- - Only model calls our instrumentation stamped (IsStamped): every other step's agent comes from
--   the attribution job later (0081 says more), so the view reads those steps.
-- - Calls counts copies; Spans holds the distinct 32-bit hashes of the calls' SpanIds: a call
--   delivered twice makes Calls > length(Spans) and the view recomputes that group's quarter.
-- - Costs as sums, unpriced calls and tokens as signed sums: a re-price corrects them by adding
--   rows (jobs/rollups/costs_reprice.sql), since its ALTER UPDATE reaches no view.
-- - ReportedCostUSD (the source's own cost, NULL when none) as a sum and a count of reported calls.
CREATE TABLE IF NOT EXISTS agent_costs
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Quarter)
ORDER BY (Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000
