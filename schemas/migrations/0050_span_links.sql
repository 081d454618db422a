-- Every span's parent link and agent facts, one row per span after merges, sorted for the walk
-- that attributes steps to their run and agent (jobs/attribution/resolve.sql reads one trace as
-- a prefix range). Two materialized views fill it: from otel_traces (every span, so the walk
-- also crosses spans that are not GenAI steps, such as an HTTP request span above an agent) and
-- from agent_steps (which spans are steps and agents, and what they are called). Both write the
-- same Timestamp (the span's start) and ParentSpanId; the other columns are maxima, so rows of
-- the two views, and copies of a span delivered twice, fold into one row at merge or GROUP BY.
CREATE TABLE IF NOT EXISTS span_links
(
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    ParentSpanId SimpleAggregateFunction(max, String) CODEC(ZSTD(1)),
    IsStep SimpleAggregateFunction(max, UInt8) COMMENT '1 when the span is an agent_steps row',
    IsAgent SimpleAggregateFunction(max, UInt8) COMMENT '1 for agent and workflow spans (StepKind agent)',
    AgentName SimpleAggregateFunction(max, String) COMMENT 'agent_steps.AgentName as the span stated it',
    StampedRunId SimpleAggregateFunction(max, String)
        COMMENT 'run id our instrumentation stamped on the span; such a span needs no lookup'
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, TraceId, SpanId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
