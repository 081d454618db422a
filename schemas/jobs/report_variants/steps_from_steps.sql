-- The steps report (reports/steps.sql) computed from the steps alone, as it was before the
-- rollups: reports.VARIANTS runs it instead when an agent is asked for (that agent's steps are a
-- small share, and the rollups' fixed cost is higher than reading them) or when the range holds
-- steps other libraries instrumented (their runs and agents come from step_attribution, so the
-- rollups would send every one of them back to the steps, at more than this query's cost).
-- Figures as reports/steps.sql's; with an agent, the run time is that of its executions (its own
-- agent spans, which are never steps) and only steps carrying its name count. Runs are counted by
-- a 64-bit hash of their key (half the time of hashing the strings into a set; a collision among
-- 2M runs has odds under 1e-7), and the run time is read in the same pass as the steps.
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
        SELECT
            StepKind, StepName, RequestModel, StatusCode, DurationMs, RunKey,
            if({agent:String} = '', NOT IsRunSpan, StepKind != 'agent') AS is_step
        FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
        WHERE ({service:String} = '' OR ServiceName = {service:String})
          AND ({agent:String} = '' OR AgentName = {agent:String})
    )
    GROUP BY StepKind, StepName, RequestModel, is_step
)
WHERE is_step
ORDER BY total_ms DESC, step_kind, step, model
