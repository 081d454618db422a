-- agent_steps_resolved (0058) with its stamped / not stamped split as PREWHERE. Reads run with
-- final = 1, and ClickHouse does not move a WHERE into PREWHERE under FINAL (a filter on a column
-- that differs between versions of a row would change which version wins), so the lookup part
-- read every column of every stamped step only to drop it: about 200 ms at 10M rows for a part
-- that returns nothing. IsStamped is the same in every copy of a span (it derives from the span's
-- own SourceConvention, RunId and TraceId), so filtering on it before FINAL keeps FINAL's answer.
CREATE OR REPLACE VIEW agent_steps_resolved AS
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
