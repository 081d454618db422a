-- Per-agent performance over a time range: executions, success rate, steps, tokens, cost and
-- duration percentiles of the agent's own spans. Tokens and cost count model calls only.
-- quantileExact picks the element at floor(level * n) of the sorted durations.
SELECT
    AgentName AS agent,
    countIf(StepKind = 'agent') AS executions,
    countIf(StepKind = 'agent' AND StatusCode != 'Error') AS succeeded,
    round(succeeded / nullIf(executions, 0), 4) AS success_rate,
    countIf(StepKind != 'agent') AS steps,
    countIf(StepKind = 'llm') AS llm_calls,
    countIf(StepKind = 'tool') AS tool_calls,
    countIf(StatusCode = 'Error' AND StepKind != 'agent') AS failed_steps,
    sumIf(InputTokens + CachedInputTokens + CacheWriteTokens, IsModelCall) AS input_tokens,
    sumIf(OutputTokens + ReasoningTokens, IsModelCall) AS output_tokens,
    round(sumIf(CostUSD, IsModelCall), 6) AS cost_usd,
    countIf(IsModelCall AND CostUSD IS NULL) AS unpriced_calls,
    round(quantileExactIf(0.5)(DurationMs, StepKind = 'agent'), 3) AS p50_ms,
    round(quantileExactIf(0.95)(DurationMs, StepKind = 'agent'), 3) AS p95_ms
FROM agent_steps
WHERE Tenant = {tenant:String}
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
GROUP BY AgentName
ORDER BY executions DESC, agent
