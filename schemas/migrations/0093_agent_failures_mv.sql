-- Fills agent_failures from every insert into agent_steps: its failed steps.
CREATE MATERIALIZED VIEW IF NOT EXISTS agent_failures_mv TO agent_failures
AS SELECT
    Tenant, Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, AgentName, StepName, ErrorType,
    ErrorMessage, RunKey, IsStamped
FROM agent_steps
WHERE StatusCode = 'Error'
