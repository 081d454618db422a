-- Step-level analysis per step kind, step name (tool name for tools) and model: calls,
-- failures, failure rate, duration mean and percentiles, total time, and that time's share of
-- the run time of the finished runs in range (steps nest and run in parallel, so shares of
-- different groups may overlap). The runs' own outermost agent spans are not steps.
-- With an agent, only the steps of runs whose outermost agent is that agent count.
WITH per_run AS
(
    SELECT
        RunKey AS run_id,
        countIf(IsRunSpan) > 0 OR RunKey = any(TraceId) AS finished,
        if(countIf(StepKind = 'agent') > 0,
           argMinIf(AgentName, (Timestamp, -DurationMs), StepKind = 'agent'),
           minIf(AgentName, AgentName != '')) AS agent,
        (max(toUnixTimestamp64Nano(Timestamp) + toInt64(round(DurationMs * 1e6)))
            - toUnixTimestamp64Nano(min(Timestamp))) / 1e6 AS run_ms
    FROM agent_steps
    WHERE Tenant = {tenant:String}
      AND Timestamp >= {since:DateTime64(9)}
      AND Timestamp < {until:DateTime64(9)}
    GROUP BY RunKey
    HAVING {agent:String} = '' OR agent = {agent:String}
)
SELECT
    StepKind AS step_kind,
    StepName AS step,
    RequestModel AS model,
    count() AS calls,
    countIf(StatusCode = 'Error') AS failures,
    round(failures / calls, 4) AS failure_rate,
    round(avg(DurationMs), 3) AS avg_ms,
    round(quantileExact(0.5)(DurationMs), 3) AS p50_ms,
    round(quantileExact(0.95)(DurationMs), 3) AS p95_ms,
    round(sum(DurationMs), 3) AS total_ms,
    round(sum(DurationMs) / nullIf((SELECT sumIf(run_ms, finished) FROM per_run), 0), 4) AS share_of_run_time,
    uniqExact(RunKey) AS runs
FROM agent_steps
WHERE Tenant = {tenant:String}
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
  AND NOT IsRunSpan
  AND ({agent:String} = '' OR RunKey IN (SELECT run_id FROM per_run))
GROUP BY StepKind, StepName, RequestModel
ORDER BY total_ms DESC, step_kind, step, model
