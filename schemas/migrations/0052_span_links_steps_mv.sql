-- Step and agent facts of every agent_steps row. A row is stamped when our instrumentation wrote
-- its run id (convention spanhouse, RunId neither empty nor the trace id, which is the processor's
-- fallback for spans that name no run).
CREATE MATERIALIZED VIEW IF NOT EXISTS span_links_steps_mv TO span_links
AS SELECT
    Tenant,
    TraceId,
    SpanId,
    Timestamp,
    ParentSpanId,
    toUInt8(1) AS IsStep,
    toUInt8(StepKind = 'agent') AS IsAgent,
    toString(AgentName) AS AgentName,
    if(SourceConvention = 'spanhouse' AND RunId NOT IN ('', TraceId), RunId, '') AS StampedRunId
FROM agent_steps
