-- Spans and steps stored before span_links existed: their parent links (every span, from
-- otel_traces) and step and agent facts (from agent_steps, as span_links_steps_mv writes them);
-- from then on the views fill it. The cascade into trace_activity queues every such trace for
-- the attribution job, which works through them in bounded batches.
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
