-- Most recent runs, newest first: agent, start, duration, status (ok, error, or active while the
-- run's outermost agent span has not arrived), steps, tokens, cost, quality, and the class of
-- the innermost failure (the latest-starting failed span: where a propagated failure began).
-- Runs are grouped by RunKey, judged and timed as in overview.sql (a run starts and lasts as
-- its run span does).
WITH per_run AS
(
    SELECT
        RunKey AS run_id,
        any(TraceId) AS trace_id,
        countIf(IsRunSpan) > 0 OR RunKey = any(TraceId) AS finished,
        countIf(StepKind = 'agent') AS agent_spans,
        argMaxIf((AgentName, StatusCode = 'Error'), DurationMs, StepKind = 'agent') AS outermost,
        if(agent_spans > 0, outermost.1, minIf(AgentName, AgentName != '')) AS agent,
        countIf(IsRunSpan) > 0 AS has_run_span,
        if(has_run_span, anyIf(Timestamp, IsRunSpan), min(Timestamp)) AS started_at,
        if(has_run_span, anyIf(DurationMs, IsRunSpan),
           (max(toUnixTimestamp64Nano(Timestamp) + toInt64(round(DurationMs * 1e6)))
            - toUnixTimestamp64Nano(min(Timestamp))) / 1e6) AS run_ms,
        if(agent_spans > 0, outermost.2, countIf(StatusCode = 'Error') > 0) AS failed,
        countIf(NOT IsRunSpan) AS run_steps,
        countIf(StatusCode = 'Error' AND NOT IsRunSpan) AS run_failed_steps,
        sumIf(InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens,
              IsModelCall) AS run_tokens,
        sumIf(CostUSD, IsModelCall) AS run_cost_usd,
        avg(QualityScore) AS run_quality,
        avg(Confidence) AS run_confidence,
        argMaxIf(ErrorType, Timestamp, StatusCode = 'Error') AS innermost_error
    FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
    WHERE ({service:String} = '' OR ServiceName = {service:String})
    GROUP BY RunKey
)
SELECT
    run_id,
    trace_id,
    agent,
    started_at,
    round(run_ms, 3) AS duration_ms,
    multiIf(NOT finished, 'active', failed, 'error', 'ok') AS status,
    run_steps AS steps,
    run_failed_steps AS failed_steps,
    run_tokens AS tokens,
    round(run_cost_usd, 6) AS cost_usd,
    round(run_quality, 4) AS quality,
    round(run_confidence, 4) AS confidence,
    innermost_error AS error_type
FROM per_run
WHERE ({agent:String} = '' OR agent = {agent:String})
  AND ({status:String} = '' OR status = {status:String})
ORDER BY started_at DESC, run_id
LIMIT {limit:UInt32}
