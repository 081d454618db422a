-- System health over time for the web UI's overview: per time bucket of run start, the runs
-- that finished, runs per minute, error rate, run p95 duration, tokens and cost. Runs are grouped
-- by RunKey (as resolved: agent_steps_resolved) and judged as in reports/overview.sql (finished once the outermost agent span is
-- stored; failed when that span has status Error). Buckets are aligned to the Unix epoch.
WITH per_run AS
(
    SELECT
        RunKey AS run_id,
        countIf(IsRunSpan) > 0 OR RunKey = any(TraceId) AS finished,
        countIf(StepKind = 'agent') AS agent_spans,
        argMaxIf((AgentName, StatusCode = 'Error'), DurationMs, StepKind = 'agent') AS outermost,
        if(agent_spans > 0, outermost.1, minIf(AgentName, AgentName != '')) AS agent,
        min(Timestamp) AS started_at,
        (max(toUnixTimestamp64Nano(Timestamp) + toInt64(round(DurationMs * 1e6)))
            - toUnixTimestamp64Nano(min(Timestamp))) / 1e6 AS duration_ms,
        if(agent_spans > 0, outermost.2, countIf(StatusCode = 'Error') > 0) AS failed,
        sumIf(InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens,
              IsModelCall) AS run_tokens,
        sumIf(CostUSD, IsModelCall) AS run_cost_usd
    FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
    GROUP BY RunKey
    HAVING {agent:String} = '' OR agent = {agent:String}
)
SELECT
    toStartOfInterval(started_at, toIntervalSecond({bucket_seconds:UInt32})) AS bucket,
    countIf(finished) AS runs,
    countIf(finished AND failed) AS failed_runs,
    countIf(NOT finished) AS active_runs,
    round(runs / ({bucket_seconds:UInt32} / 60), 4) AS runs_per_minute,
    round(failed_runs / nullIf(runs, 0), 4) AS error_rate,
    round(quantileExactIf(0.95)(duration_ms, finished), 3) AS p95_ms,
    sum(run_tokens) AS tokens,
    round(sum(run_cost_usd), 6) AS cost_usd
FROM per_run
GROUP BY bucket
ORDER BY bucket
