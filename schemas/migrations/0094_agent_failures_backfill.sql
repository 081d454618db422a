-- Failed steps stored before agent_failures existed; from then on the view fills it.
-- (Migrations run before the collector takes spans, so no step reaches both.)
INSERT INTO agent_failures
    (Tenant, Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, AgentName, StepName, ErrorType, ErrorMessage, RunKey, IsStamped)
SELECT
    Tenant, Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, AgentName, StepName, ErrorType,
    ErrorMessage, RunKey, IsStamped
FROM agent_steps
WHERE StatusCode = 'Error'
