-- The run and the agent each step belongs to, resolved in ClickHouse from the trace's parent
-- links by jobs/attribution/resolve.sql, for steps our instrumentation did not stamp (spans of
-- other libraries name their agent only on the agent span, if at all). Reports read steps
-- through the agent_steps_resolved view, which takes these columns over the row's own.
--
-- Contract (what a reader, a rollup included, may rely on):
-- - One row per step after FINAL, keyed like the step (Tenant, TraceId, SpanId); steps stamped
--   by our instrumentation have no row here and keep their own RunKey and AgentName.
-- - AgentName is the nearest enclosing agent span's name (the step's own, for an agent span);
--   without one, the name the step states itself (AI SDK function id, Traceloop workflow name,
--   Langfuse trace name), else that of the stamped run it sits in. RunKey is the stamped run id
--   above the step if any, else the outermost agent span's id, or the trace id when that agent
--   is the trace's root or the chain holds no agent. IsRunSpan marks that outermost agent span.
-- - Complete: the walk reached the trace's root or a stamped span within the depth bound.
-- - Final rows never change: a step is written Final once its trace has received no spans for
--   the lateness bound (the job's lateness_s, default 15 minutes; parents still missing then are
--   taken as absent for good, and later arrivals in that trace change no Final row). The job never writes a step that already has a Final row, and a
--   Final row's Version (bit 62 set) outranks every provisional one. So a rollup fed from Final
--   rows (a materialized view on `Final = 1`) counts each step once and is never contradicted;
--   provisional rows (Final = 0) serve live reports and may be replaced as parents arrive.
--   Two resolvers racing may write the same Final row twice (same values): a rollup that must be
--   exact under that race keys its input by step (ReplacingMergeTree) before summing.
CREATE TABLE IF NOT EXISTS step_attribution
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
ENGINE = ReplacingMergeTree(Version)
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, TraceId, SpanId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
