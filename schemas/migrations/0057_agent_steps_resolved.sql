-- agent_steps with each step's resolved run and agent (step_attribution) over the row's own:
-- every report, trace view and anything scoped by agent reads steps through this view.
-- Parameters: tenant, and the [since, until) range of the steps' start. A step not resolved yet
-- (the job runs every few seconds) or stamped by our instrumentation keeps its own values;
-- StatedAgentName is the name the span itself carried.
CREATE VIEW IF NOT EXISTS agent_steps_resolved AS
SELECT
    s.* REPLACE (if(a.SpanId != '', a.AgentName, s.AgentName) AS AgentName),
    if(a.SpanId != '', a.RunKey, s.RunKey) AS RunKey,
    if(a.SpanId != '', a.IsRunSpan, s.IsRunSpan) AS IsRunSpan,
    s.InputTokens + s.CachedInputTokens + s.CacheWriteTokens + s.OutputTokens + s.ReasoningTokens AS TotalTokens,
    s.AgentName AS StatedAgentName,
    a.SpanId != '' AS Resolved
FROM agent_steps AS s
LEFT ANY JOIN
(
    SELECT TraceId, SpanId, RunKey, AgentName, IsRunSpan
    FROM step_attribution
    WHERE Tenant = {tenant:String}
      AND Timestamp >= {since:DateTime64(9)}
      AND Timestamp < {until:DateTime64(9)}
) AS a ON s.TraceId = a.TraceId AND s.SpanId = a.SpanId
WHERE s.Tenant = {tenant:String}
  AND s.Timestamp >= {since:DateTime64(9)}
  AND s.Timestamp < {until:DateTime64(9)}
