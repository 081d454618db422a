-- Step-level analysis per step kind, step name (tool name for tools) and model: calls,
-- failures, failure rate, duration mean and percentiles, total time, and that time's share of
-- run time: the summed duration of the runs' own outermost agent spans (IsRunSpan), or with an
-- agent, of that agent's executions. Runs' own spans are not steps; with an agent, only steps
-- carrying its name (its nearest enclosing agent) count. Steps nest and run in parallel, so the
-- shares of different groups may overlap. Two arms, of which the agent parameter runs one:
-- - no agent: the rollups. Figures and exact percentiles from agent_step_groups_resolved (a row
--   per group and quarter hour, each holding its steps' durations), the run time from its run
--   span rows, and each group's runs from agent_runs_resolved's step_groups (a row per run; a
--   group is matched on the same 64-bit hash of its three names).
-- - an agent: that agent's steps (a small share of them), read once. Runs are counted by a 64-bit
--   hash of their key (half the time of hashing the strings into a set; a collision among 2M runs
--   has odds under 1e-7), and the run time (the agent's executions, never steps) in the same pass.
WITH
    -- The arm not taken reads tenant '/', which is no tenant's id (auth.TENANT_PATTERN), so its
    -- tables are skipped by their first key column: a WHERE on the agent parameter alone would
    -- still read them (agent_runs, keyed by run, even for an empty time range).
    if({agent:String} = '', {tenant:String}, '/') AS rolled_tenant,
    if({agent:String} = '', '/', {tenant:String}) AS agent_tenant,
    runs_per_group AS
    (
        SELECT group_hash, count() AS runs
        FROM agent_runs_resolved(tenant = rolled_tenant, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
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
    runs
FROM
(
    SELECT
        g.step_kind AS step_kind, g.step AS step, g.model AS model, g.is_step AS is_step,
        g.calls AS calls, g.failures AS failures, g.avg_ms AS avg_ms, g.p50_ms AS p50_ms,
        g.p95_ms AS p95_ms, g.total_ms_exact AS total_ms_exact, g.total_ms AS total_ms,
        r.runs AS runs, g.run_ms AS run_ms
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
        FROM agent_step_groups_resolved(tenant = rolled_tenant, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
        GROUP BY StepKind, StepName, RequestModel, IsRunSpan
    ) AS g
    LEFT JOIN runs_per_group AS r ON r.group_hash = cityHash64(toString(g.step_kind), g.step, toString(g.model))
    UNION ALL
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
        FROM agent_steps_resolved(tenant = agent_tenant, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
        WHERE ({service:String} = '' OR ServiceName = {service:String})
          AND AgentName = {agent:String}
    )
    GROUP BY StepKind, StepName, RequestModel, is_step
)
WHERE is_step
ORDER BY total_ms DESC, step_kind, step, model
