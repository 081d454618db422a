-- On each shard, step and agent facts from inserts into the local agent_steps (same shard: by trace).
CREATE MATERIALIZED VIEW IF NOT EXISTS span_links_steps_mv ON CLUSTER '{cluster}' TO span_links_local
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
FROM agent_steps_local
