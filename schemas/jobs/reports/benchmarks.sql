-- Benchmark categories per agent, as in the seed dashboard: run duration (excellent < 5 s,
-- good < 10 s, acceptable < 20 s, poor otherwise), tokens per run (< 1K, < 2K, < 4K) and steps
-- per run (< 3, < 5, < 8); every bound is a parameter. One row per agent and dimension: the
-- average per run, the category of that average, and how many runs fall in each category.
-- Runs are agent_runs_resolved's finished runs (migrations/0084), timed as in overview.sql and
-- counted under their outermost agent; a run's steps are its spans but the run span itself.
WITH per_run AS
(
    SELECT
        agent,
        duration_ms AS run_ms,
        toFloat64(tokens) AS run_tokens,
        toFloat64(steps) AS run_steps
    FROM agent_runs_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
    WHERE finished AND ({agent:String} = '' OR agent = {agent:String})
),
per_agent AS
(
    SELECT
        agent,
        count() AS runs,
        [
            ('response_time_ms', avg(run_ms),
             {response_excellent_ms:Float64}, {response_good_ms:Float64}, {response_acceptable_ms:Float64},
             countIf(run_ms < {response_excellent_ms:Float64}),
             countIf(run_ms >= {response_excellent_ms:Float64} AND run_ms < {response_good_ms:Float64}),
             countIf(run_ms >= {response_good_ms:Float64} AND run_ms < {response_acceptable_ms:Float64}),
             countIf(run_ms >= {response_acceptable_ms:Float64})),
            ('tokens_per_run', avg(run_tokens),
             {tokens_excellent:Float64}, {tokens_good:Float64}, {tokens_acceptable:Float64},
             countIf(run_tokens < {tokens_excellent:Float64}),
             countIf(run_tokens >= {tokens_excellent:Float64} AND run_tokens < {tokens_good:Float64}),
             countIf(run_tokens >= {tokens_good:Float64} AND run_tokens < {tokens_acceptable:Float64}),
             countIf(run_tokens >= {tokens_acceptable:Float64})),
            ('steps_per_run', avg(run_steps),
             {steps_excellent:Float64}, {steps_good:Float64}, {steps_acceptable:Float64},
             countIf(run_steps < {steps_excellent:Float64}),
             countIf(run_steps >= {steps_excellent:Float64} AND run_steps < {steps_good:Float64}),
             countIf(run_steps >= {steps_good:Float64} AND run_steps < {steps_acceptable:Float64}),
             countIf(run_steps >= {steps_acceptable:Float64}))
        ] AS dimensions
    FROM per_run
    GROUP BY agent
)
SELECT
    agent,
    d.1 AS dimension,
    runs,
    round(d.2, 3) AS average,
    multiIf(d.2 < d.3, 'excellent', d.2 < d.4, 'good', d.2 < d.5, 'acceptable', 'poor') AS category,
    d.6 AS excellent_runs,
    d.7 AS good_runs,
    d.8 AS acceptable_runs,
    d.9 AS poor_runs
FROM per_agent
ARRAY JOIN dimensions AS d
ORDER BY agent, dimension
