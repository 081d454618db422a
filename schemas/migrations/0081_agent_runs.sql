-- One row per run (Tenant, RunKey) per insert block, merged in the background: what the run
-- reports (overview, executions, benchmarks) need of a run's steps, as aggregate states, so
-- they read a row per run instead of every step. Filled by agent_runs_mv from every insert into
-- agent_steps (the collector's, a bulk INSERT ... SELECT, an import alike); read through the
-- agent_runs_resolved view, which falls back to the steps wherever a row cannot be trusted.
--
-- What it holds and why (each figure is written in the view exactly as the reports compute it):
-- - Only steps our instrumentation stamped (IsStamped): their RunKey and AgentName are final when
--   stored. Every other step gets its run and agent later, from step_attribution (provisional
--   rows that change as parents arrive, then Final ones), so the view reads those steps raw and
--   recomputes their runs; a rollup fed from the attribution job could hold only Final rows and
--   would need the raw path for the last 15 minutes anyway.
-- - Copies (rows received) and Spans (the distinct 32-bit hashes of its SpanIds): a span
--   delivered twice is counted twice here until ClickHouse merges agent_steps; Copies > length(Spans)
--   marks such a run, and the view recomputes it from the steps, one copy each. A hash collision
--   only makes a clean run look dirty (a recomputation, never a wrong figure). An array rather
--   than a uniq state: the check reads it as a plain column, without deserializing a state.
-- - FirstStart / LastStart (step starts): a run entirely inside a report's [since, until) is read
--   from here; one crossing an edge is recomputed from its steps in the range.
-- - MinService / MaxService: a run of one service answers a service filter from here; a run
--   across services is recomputed with the filter.
-- - Costs as a sum and a count of priced calls (not a Nullable sum), so a re-price can correct
--   them by adding rows (jobs/rollups/runs_reprice.sql, before and after the mutation): an
--   ALTER UPDATE of agent_steps never reaches a materialized view.
-- Every column is a SimpleAggregateFunction (plain values merged by min, max, sum, union): a
-- report reads only the columns it needs, without deserializing aggregate states. So "the agent
-- span with the longest duration" is the max of (duration, agent, failed) tuples, an optional
-- value (the run span's duration, the first stated agent) a min or max over Nullable (NULLs are
-- skipped), and averages are a sum and a count.
-- A replayed WAL batch (same insert_deduplication_token) is dropped here as in agent_steps:
-- deduplicate_blocks_in_dependent_materialized_views and this table's deduplication window.
CREATE TABLE IF NOT EXISTS agent_runs
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
ENGINE = AggregatingMergeTree
ORDER BY (Tenant, RunKey)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000
