-- migrations/0059_span_links_backfill.sql through the Distributed tables (each row to its trace's shard).
INSERT INTO span_links (Tenant, TraceId, SpanId, Timestamp, ParentSpanId, IsStep, IsAgent, AgentName, StampedRunId)
SELECT Tenant, TraceId, SpanId, Timestamp, ParentSpanId, 0, 0, '', ''
FROM otel_traces
UNION ALL
SELECT
    Tenant,
    TraceId,
    SpanId,
    Timestamp,
    ParentSpanId,
    1,
    StepKind = 'agent',
    toString(AgentName),
    if(IsStamped, RunId, '')
FROM agent_steps
