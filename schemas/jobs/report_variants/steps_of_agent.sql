-- The steps report (reports/steps.sql) for one agent: its steps only, read from the steps. An
-- agent's steps are a small share of them, and reading them costs less than the rollups' fixed
-- cost (reports.VARIANTS chooses this query when the agent option is set). Only steps carrying the
-- agent's name (its nearest enclosing agent) count, and the run time is that of its executions
-- (its own agent spans, which are never steps), read in the same pass. Runs are counted by a
-- 64-bit hash of their key (half the time of hashing the strings into a set; a collision among 2M
-- runs has odds under 1e-7).
SELECT
    step_kind,
    step,
    model,
    calls,
    failures,
    round(failures / calls, 4) AS failure_rate,
    avg_ms,
    p50_ms,
    p95_ms,
    total_ms,
    round(total_ms_exact / nullIf(run_ms, 0), 4) AS share_of_run_time,
    runs
FROM
(
    SELECT
        StepKind AS step_kind,
        StepName AS step,
        RequestModel AS model,
        is_step,
        countIf(is_step) AS calls,
        countIf(is_step AND StatusCode = 'Error') AS failures,
        round(avgIf(DurationMs, is_step), 3) AS avg_ms,
        round(quantilesExactIf(0.5, 0.95)(DurationMs, is_step)[1], 3) AS p50_ms,
        round(quantilesExactIf(0.5, 0.95)(DurationMs, is_step)[2], 3) AS p95_ms,
        sumIf(DurationMs, is_step) AS total_ms_exact,
        round(total_ms_exact, 3) AS total_ms,
        uniqExactIf(cityHash64(RunKey), is_step) AS runs,
        sum(sumIf(DurationMs, NOT is_step)) OVER () AS run_ms
    FROM
    (
        SELECT StepKind, StepName, RequestModel, StatusCode, DurationMs, RunKey, StepKind != 'agent' AS is_step
        FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
        WHERE ({service:String} = '' OR ServiceName = {service:String})
          AND AgentName = {agent:String}
    )
    GROUP BY StepKind, StepName, RequestModel, is_step
)
WHERE is_step
ORDER BY total_ms DESC, step_kind, step, model
