-- Step-level analysis per step kind, step name (tool name for tools) and model: calls,
-- failures, failure rate, duration mean and percentiles, total time, and that time's share of
-- run time: the summed duration of the runs' own outermost agent spans (IsRunSpan). Runs' own
-- spans are not steps. Steps nest and run in parallel, so the shares of different groups may
-- overlap. Read from the rollups: the figures and exact percentiles from
-- agent_step_groups_resolved (a row per group and quarter hour, each holding its steps'
-- durations), the run time from its run span rows, and each group's runs from
-- agent_runs_resolved's step_groups (a row per run; a group is matched on the same 64-bit hash of
-- its three names). With the agent option set, or another library's steps in the range,
-- report_variants/steps_from_steps.sql runs instead (reports.VARIANTS).
WITH
    runs_per_group AS
    (
        SELECT group_hash, count() AS runs
        FROM agent_runs_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
        ARRAY JOIN step_groups AS group_hash
        GROUP BY group_hash
    )
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
    r.runs AS runs
FROM
(
    SELECT
        StepKind AS step_kind,
        StepName AS step,
        RequestModel AS model,
        NOT IsRunSpan AS is_step,
        sum(Calls) AS calls,
        sum(Failures) AS failures,
        round(sum(DurationMs) / calls, 3) AS avg_ms,
        round(quantilesExactArray(0.5, 0.95)(Durations)[1], 3) AS p50_ms,
        round(quantilesExactArray(0.5, 0.95)(Durations)[2], 3) AS p95_ms,
        sum(DurationMs) AS total_ms_exact,
        round(total_ms_exact, 3) AS total_ms,
        sum(if(is_step, 0, sum(DurationMs))) OVER () AS run_ms
    FROM agent_step_groups_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
    GROUP BY StepKind, StepName, RequestModel, IsRunSpan
) AS g
LEFT JOIN runs_per_group AS r ON r.group_hash = cityHash64(toString(g.step_kind), g.step, toString(g.model))
WHERE is_step
ORDER BY total_ms DESC, step_kind, step, model
