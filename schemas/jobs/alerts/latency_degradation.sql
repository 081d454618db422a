-- Agents as resolved (agent_steps_resolved), whoever instrumented the steps.
-- Latency degradation per tenant, overall (agent = '*') and per agent: the p95 duration of steps
-- (a run's own outermost span excluded) in the last {window_s} seconds before {as_of} against the
-- p95 over the {baseline_s} seconds before it. quantileExact picks the element at floor(0.95 * n)
-- of the sorted durations. fires when both have at least {min_steps} steps and the window's p95
-- reaches {factor} times the baseline's (a relative 1e-9 allowed).
WITH
    toDateTime64({as_of:DateTime64(3)}, 3) AS as_of,
    as_of - toIntervalMillisecond(toInt64({window_s:Float64} * 1000)) AS window_start,
    window_start - toIntervalMillisecond(toInt64({baseline_s:Float64} * 1000)) AS baseline_start
SELECT
    Tenant AS tenant,
    if(grouping(AgentName) = 1, '*', AgentName) AS agent,
    countIf(Timestamp >= window_start) AS current_steps,
    quantileExactIf(0.95)(DurationMs, Timestamp >= window_start) AS current_p95_ms,
    countIf(Timestamp < window_start) AS baseline_steps,
    quantileExactIf(0.95)(DurationMs, Timestamp < window_start) AS baseline_p95_ms,
    current_steps >= {min_steps:UInt64} AND baseline_steps >= {min_steps:UInt64}
        AND current_p95_ms >= {factor:Float64} * baseline_p95_ms * (1 - 1e-9) AS fires
FROM agent_steps_resolved(tenant = {tenant:String},
    since = toDateTime64({as_of:DateTime64(3)}, 9)
        - toIntervalMillisecond(toInt64(({window_s:Float64} + {baseline_s:Float64}) * 1000)),
    until = toDateTime64({as_of:DateTime64(3)}, 9))
WHERE NOT IsRunSpan
  AND Timestamp >= baseline_start AND Timestamp < as_of
  AND ({tenant:String} = '*' OR Tenant = {tenant:String})
GROUP BY GROUPING SETS ((Tenant), (Tenant, AgentName))
ORDER BY tenant, agent
