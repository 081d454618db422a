-- migrations/0089_agent_steps_resolved_prewhere.sql on every node, over the Distributed tables (as agent_steps_resolved itself).
CREATE OR REPLACE VIEW agent_steps_resolved ON CLUSTER '{cluster}' AS
SELECT
    *,
    RunKey,
    IsRunSpan,
    InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens AS TotalTokens,
    AgentName AS StatedAgentName,
    false AS Resolved
FROM agent_steps
PREWHERE IsStamped
WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
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
PREWHERE NOT s.IsStamped
WHERE ({tenant:String} = '*' OR s.Tenant = {tenant:String})
  AND s.Timestamp >= {since:DateTime64(9)}
  AND s.Timestamp < {until:DateTime64(9)}
