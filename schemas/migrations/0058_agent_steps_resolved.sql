-- agent_steps with each step's resolved run and agent (step_attribution) over the row's own:
-- every report, trace view and anything scoped by agent reads steps through this view.
-- Parameters: tenant ('*' = every tenant; a tenant API key still reads only its own rows, as
-- additional_table_filters apply to the tables inside), and the [since, until) range of the steps' start. StatedAgentName is the
-- name the span itself carried; Resolved says a step_attribution row was found.
-- Two parts, so a lookup is paid only where one is needed:
-- - steps our instrumentation stamped (IsStamped) carry their run and agent already and are read
--   as they are;
-- - every other step is looked up in step_attribution, on a 64-bit hash of (Tenant, TraceId, SpanId)
--   (about twice as fast as joining on the two strings); a hash collision is caught by comparing
--   SpanId and then keeps the row's own values, as does a step not resolved yet (the job runs
--   every few seconds).
CREATE VIEW IF NOT EXISTS agent_steps_resolved AS
SELECT
    *,
    RunKey,
    IsRunSpan,
    InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens AS TotalTokens,
    AgentName AS StatedAgentName,
    false AS Resolved
FROM agent_steps
WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
  AND IsStamped
UNION ALL
SELECT
    s.* REPLACE (if(a.SpanId = s.SpanId, a.AgentName, s.AgentName) AS AgentName),
    if(a.SpanId = s.SpanId, a.RunKey, s.RunKey) AS RunKey,
    if(a.SpanId = s.SpanId, a.IsRunSpan, s.IsRunSpan) AS IsRunSpan,
    s.InputTokens + s.CachedInputTokens + s.CacheWriteTokens + s.OutputTokens + s.ReasoningTokens AS TotalTokens,
    s.AgentName AS StatedAgentName,
    a.SpanId = s.SpanId AS Resolved
FROM agent_steps AS s
LEFT ANY JOIN
(
    SELECT cityHash64(Tenant, TraceId, SpanId) AS StepKey, SpanId, RunKey, AgentName, IsRunSpan
    FROM step_attribution
    WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
      AND Timestamp >= {since:DateTime64(9)}
      AND Timestamp < {until:DateTime64(9)}
) AS a ON cityHash64(s.Tenant, s.TraceId, s.SpanId) = a.StepKey
WHERE ({tenant:String} = '*' OR s.Tenant = {tenant:String})
  AND s.Timestamp >= {since:DateTime64(9)}
  AND s.Timestamp < {until:DateTime64(9)}
  AND NOT s.IsStamped
