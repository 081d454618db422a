-- Per-agent performance over a time range: executions (the agent's own spans), success rate,
-- duration mean and percentiles, steps, tokens and cost per execution, quality and confidence.
-- Steps, tokens and cost are those of the steps attributed to the agent (its nearest enclosing
-- agent span, whoever instrumented it: agent_steps_resolved); tokens and cost count model calls only. Quality and confidence average every score recorded on the agent's rows.
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
    round(quantileExactIf(0.95)(DurationMs, StepKind = 'agent'), 3) AS p95_ms,
    round(quantileExactIf(0.99)(DurationMs, StepKind = 'agent'), 3) AS p99_ms,
    round(avgIf(DurationMs, StepKind = 'agent'), 3) AS avg_ms,
    round(steps / nullIf(executions, 0), 3) AS steps_per_run,
    round((input_tokens + output_tokens) / nullIf(executions, 0), 3) AS tokens_per_run,
    round(sumIf(CostUSD, IsModelCall) / nullIf(executions, 0), 6) AS cost_per_run,
    count(QualityScore) AS scored,
    round(avg(QualityScore), 4) AS avg_quality,
    round(avg(Confidence), 4) AS avg_confidence
FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
WHERE ({agent:String} = '' OR AgentName = {agent:String})
GROUP BY AgentName
ORDER BY executions DESC, agent
