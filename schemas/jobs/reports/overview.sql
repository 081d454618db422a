-- System health over a time range: runs, active runs, run rate, run duration mean and
-- percentiles, error rate, token and cost rates, and a health status from thresholds.
-- Runs, their status and duration are agent_runs_resolved's (migrations/0084: one definition for
-- overview, executions and benchmarks, read from the agent_runs rollup where it is exact).
-- Rates divide by the part of [since, until) that holds data: from the first step's start to
-- the last step's end. quantileExact picks the element at floor(level * n) of sorted values.
-- Health: critical when the error rate or the p95 reaches its critical threshold, degraded when
-- either reaches its degraded threshold, otherwise healthy; no_data without finished runs.
WITH per_run AS
(
    SELECT
        finished,
        failed,
        start_ns,
        end_ns,
        duration_ms,
        steps AS run_steps,
        failed_steps AS run_failed_steps,
        input_tokens AS run_input_tokens,
        output_tokens AS run_output_tokens,
        cost_usd AS run_cost_usd,
        unpriced_calls AS run_unpriced_calls
    FROM agent_runs_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
    WHERE {agent:String} = '' OR agent = {agent:String}
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
