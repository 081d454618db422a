-- Steps stored before span_links existed: their step and agent facts, as span_links_steps_mv writes them.
INSERT INTO span_links (Tenant, TraceId, SpanId, Timestamp, ParentSpanId, IsStep, IsAgent, AgentName, StampedRunId)
SELECT
    Tenant,
    TraceId,
    SpanId,
    Timestamp,
    ParentSpanId,
    1,
    StepKind = 'agent',
    toString(AgentName),
    if(SourceConvention = 'spanhouse' AND RunId NOT IN ('', TraceId), RunId, '')
FROM agent_steps
