-- The trace of a span id, for the debugging views when the id named no trace or run
-- (traces/trace_of.sql): span ids have no index, so this reads the SpanId columns.
SELECT TraceId AS trace_id
FROM
(
    SELECT TraceId FROM agent_steps WHERE Tenant = {tenant:String} AND SpanId = {id:String}
    UNION ALL
    SELECT TraceId FROM otel_traces WHERE Tenant = {tenant:String} AND SpanId = {id:String}
)
LIMIT 1
