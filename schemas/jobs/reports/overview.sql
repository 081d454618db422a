-- Whole-system totals over a time range: runs (outermost agent spans), their success rate,
-- steps, tokens, cost and run duration percentiles. Tokens and cost count model calls only.
SELECT
    countIf(StepKind = 'agent' AND SpanId = RunId) AS runs,
    countIf(StepKind = 'agent' AND SpanId = RunId AND StatusCode != 'Error') AS succeeded_runs,
    round(succeeded_runs / nullIf(runs, 0), 4) AS success_rate,
    count() AS steps,
    countIf(StatusCode = 'Error') AS failed_steps,
    sumIf(InputTokens + CachedInputTokens + CacheWriteTokens, IsModelCall) AS input_tokens,
    sumIf(OutputTokens + ReasoningTokens, IsModelCall) AS output_tokens,
    round(sumIf(CostUSD, IsModelCall), 6) AS cost_usd,
    countIf(IsModelCall AND CostUSD IS NULL) AS unpriced_calls,
    round(quantileExactIf(0.5)(DurationMs, StepKind = 'agent' AND SpanId = RunId), 3) AS run_p50_ms,
    round(quantileExactIf(0.95)(DurationMs, StepKind = 'agent' AND SpanId = RunId), 3) AS run_p95_ms
FROM agent_steps
WHERE Tenant = {tenant:String}
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
