-- migrations/0094_agent_failures_backfill.sql through the Distributed tables.
INSERT INTO agent_failures
    (Tenant, Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, AgentName, StepName, ErrorType, ErrorMessage, RunKey, IsStamped)
SELECT
    Tenant, Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, AgentName, StepName, ErrorType,
    ErrorMessage, RunKey, IsStamped
FROM agent_steps
WHERE StatusCode = 'Error'
