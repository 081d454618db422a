-- On each shard, fills the local agent_failures from inserts into the local agent_steps.
CREATE MATERIALIZED VIEW IF NOT EXISTS agent_failures_mv ON CLUSTER '{cluster}' TO agent_failures_local
AS SELECT
    Tenant, Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, AgentName, StepName, ErrorType,
    ErrorMessage, RunKey, IsStamped
FROM agent_steps_local
WHERE StatusCode = 'Error'
