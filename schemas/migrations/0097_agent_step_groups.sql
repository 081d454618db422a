-- Steps per quarter hour and per (tenant, service, step kind, step name, model, run span or not):
-- what the steps report reads instead of every step. Filled by agent_step_groups_mv from every
-- insert into agent_steps; read through the agent_step_groups_resolved view, which takes the
-- steps wherever a row cannot be trusted. Built like agent_costs (0085 says why quarter hours,
-- why only stamped steps, and how Calls against the Spans hashes finds a step stored twice).
-- - Durations holds every step's DurationMs, so percentiles stay exact (quantilesExactArray):
--   8 bytes a step, against about 56 for the step's row in agent_steps. LZ4, as the column is read
--   whole and decompressing it was most of its cost with ZSTD (docs/performance.md).
-- - No AgentName: with an agent asked for, the report reads that agent's steps, a small share.
-- - Runs per group are not here (a run's steps of one group span quarters and inserts, and
--   merging sets of run hashes cost as much as reading the steps): agent_runs holds each run's
--   groups (StepGroups, migration 0102).
CREATE TABLE IF NOT EXISTS agent_step_groups
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(Quarter)
ORDER BY (Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000
