-- The trace a trace id or a run id names, for the debugging views: found through the TraceId and
-- RunId bloom filter indexes (each lookup on its own, since one index cannot skip a granule for a
-- condition that ORs another column). No row when the id is neither (it may be a span id:
-- traces/trace_of_span.sql).
SELECT TraceId AS trace_id
FROM
(
    SELECT TraceId FROM agent_steps WHERE Tenant = {tenant:String} AND TraceId = {id:String}
    UNION ALL
    SELECT TraceId FROM agent_steps WHERE Tenant = {tenant:String} AND RunId = {id:String}
    UNION ALL
    SELECT TraceId FROM otel_traces WHERE Tenant = {tenant:String} AND TraceId = {id:String}
)
LIMIT 1
