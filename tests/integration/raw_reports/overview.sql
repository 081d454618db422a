-- System health over a time range: runs, active runs, run rate, run duration mean and
-- percentiles, error rate, token and cost rates, and a health status from thresholds.
-- A run is every row sharing a RunKey (steps started in the range); it is finished once its
-- outermost agent span is stored (spans are exported when they end), and still active before.
-- A run lasts as long as its run span (IsRunSpan, the outermost agent span), as in `traces show`;
-- a run with no agent span lasts from its first step's start to its last step's end. The same
-- definition is written in executions.sql and benchmarks.sql.
-- A finished run failed when its outermost agent span (the longest: it encloses the others) has
-- status Error; a run with no agent span at all failed when any of its steps did.
-- Rates divide by the part of [since, until) that holds data: from the first step's start to
-- the last step's end. quantileExact picks the element at floor(level * n) of sorted values.
-- Health: critical when the error rate or the p95 reaches its critical threshold, degraded when
-- either reaches its degraded threshold, otherwise healthy; no_data without finished runs.
WITH per_run AS
(
    SELECT
        RunKey AS run_id,
        countIf(IsRunSpan) > 0 OR RunKey = any(TraceId) AS finished,
        countIf(StepKind = 'agent') AS agent_spans,
        argMaxIf((AgentName, StatusCode = 'Error'), DurationMs, StepKind = 'agent') AS outermost,
        if(agent_spans > 0, outermost.1, minIf(AgentName, AgentName != '')) AS agent,
        min(toUnixTimestamp64Nano(Timestamp)) AS start_ns,
        max(toUnixTimestamp64Nano(Timestamp) + toInt64(round(DurationMs * 1e6))) AS end_ns,
        if(countIf(IsRunSpan) > 0, anyIf(DurationMs, IsRunSpan), (end_ns - start_ns) / 1e6) AS duration_ms,
        if(agent_spans > 0, outermost.2, countIf(StatusCode = 'Error') > 0) AS failed,
        countIf(NOT IsRunSpan) AS run_steps,
        countIf(StatusCode = 'Error' AND NOT IsRunSpan) AS run_failed_steps,
        sumIf(InputTokens + CachedInputTokens + CacheWriteTokens, IsModelCall) AS run_input_tokens,
        sumIf(OutputTokens + ReasoningTokens, IsModelCall) AS run_output_tokens,
        sumIf(CostUSD, IsModelCall) AS run_cost_usd,
        countIf(IsModelCall AND CostUSD IS NULL) AS run_unpriced_calls
    FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
    WHERE ({service:String} = '' OR ServiceName = {service:String})
    GROUP BY RunKey
    HAVING {agent:String} = '' OR agent = {agent:String}
)
SELECT
    countIf(finished) AS runs,
    countIf(finished AND NOT failed) AS succeeded_runs,
    round(succeeded_runs / nullIf(runs, 0), 4) AS success_rate,
    round(countIf(finished AND failed) / nullIf(runs, 0), 4) AS error_rate,
    countIf(NOT finished) AS active_runs,
    sum(run_steps) AS steps,
    sum(run_failed_steps) AS failed_steps,
    sum(run_input_tokens) AS input_tokens,
    sum(run_output_tokens) AS output_tokens,
    round(sum(run_cost_usd), 6) AS cost_usd,
    sum(run_unpriced_calls) AS unpriced_calls,
    round(avgIf(duration_ms, finished), 3) AS run_avg_ms,
    round(quantilesExactIf(0.5, 0.95, 0.99)(duration_ms, finished)[1], 3) AS run_p50_ms,
    round(quantilesExactIf(0.5, 0.95, 0.99)(duration_ms, finished)[2], 3) AS run_p95_ms,
    round(quantilesExactIf(0.5, 0.95, 0.99)(duration_ms, finished)[3], 3) AS run_p99_ms,
    round((least(toUnixTimestamp64Nano({until:DateTime64(9)}), max(end_ns))
           - greatest(toUnixTimestamp64Nano({since:DateTime64(9)}), min(start_ns))) / 1e9, 3) AS window_s,
    runs / nullIf(window_s / 60, 0) AS runs_per_minute,
    (sum(run_input_tokens) + sum(run_output_tokens)) / nullIf(window_s / 60, 0) AS tokens_per_minute,
    sum(run_cost_usd) / nullIf(window_s / 60, 0) AS cost_per_minute,
    multiIf(
        runs = 0, 'no_data',
        error_rate >= {error_rate_critical:Float64} OR run_p95_ms >= {p95_critical_ms:Float64}, 'critical',
        error_rate >= {error_rate_degraded:Float64} OR run_p95_ms >= {p95_degraded_ms:Float64}, 'degraded',
        'healthy') AS health
FROM per_run
