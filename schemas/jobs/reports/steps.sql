-- Step-level analysis per step kind, step name (tool name for tools) and model: calls,
-- failures, failure rate, duration mean and percentiles, total time, and that time's share of
-- run time: the summed duration of the runs' own outermost agent spans (IsRunSpan), or with an
-- agent, of that agent's executions. Runs' own spans are not steps; with an agent, only steps
-- carrying its name (its nearest enclosing agent) count. Steps nest and run in parallel, so the
-- shares of different groups may overlap. Runs are counted by a 64-bit hash of their key (half
-- the time of hashing the strings into a set; a collision among 2M runs has odds under 1e-7).
SELECT
    StepKind AS step_kind,
    StepName AS step,
    RequestModel AS model,
    count() AS calls,
    countIf(StatusCode = 'Error') AS failures,
    round(failures / calls, 4) AS failure_rate,
    round(avg(DurationMs), 3) AS avg_ms,
    round(quantilesExact(0.5, 0.95)(DurationMs)[1], 3) AS p50_ms,
    round(quantilesExact(0.5, 0.95)(DurationMs)[2], 3) AS p95_ms,
    round(sum(DurationMs), 3) AS total_ms,
    round(sum(DurationMs) / nullIf((
        SELECT sum(DurationMs)
        FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
        WHERE ({service:String} = '' OR ServiceName = {service:String})
          AND if({agent:String} = '', IsRunSpan, StepKind = 'agent' AND AgentName = {agent:String})
    ), 0), 4) AS share_of_run_time,
    uniqExact(cityHash64(RunKey)) AS runs
FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
WHERE ({service:String} = '' OR ServiceName = {service:String})
  AND if({agent:String} = '', NOT IsRunSpan, StepKind != 'agent' AND AgentName = {agent:String})
GROUP BY StepKind, StepName, RequestModel
ORDER BY total_ms DESC, step_kind, step, model
