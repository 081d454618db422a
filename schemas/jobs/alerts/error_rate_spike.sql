-- Agents as resolved (agent_steps_resolved), whoever instrumented the steps.
-- Error-rate spikes per tenant, overall (agent = '*') and per agent: the share of steps (a run's
-- own outermost span excluded) with status Error in the last {window_s} seconds before {as_of},
-- against the share over the {baseline_s} seconds before it. fires when the window has at least
-- {min_steps} steps, its rate reaches {min_rate} and {factor} times the baseline's rate (a
-- relative 1e-9 allowed); with no baseline steps the baseline rate counts as 0.
WITH
    toDateTime64({as_of:DateTime64(3)}, 3) AS as_of,
    as_of - toIntervalMillisecond(toInt64({window_s:Float64} * 1000)) AS window_start,
    window_start - toIntervalMillisecond(toInt64({baseline_s:Float64} * 1000)) AS baseline_start
SELECT
    Tenant AS tenant,
    if(grouping(AgentName) = 1, '*', AgentName) AS agent,
    countIf(Timestamp >= window_start) AS current_steps,
    countIf(Timestamp >= window_start AND StatusCode = 'Error') / nullIf(current_steps, 0) AS current_rate,
    countIf(Timestamp < window_start) AS baseline_steps,
    ifNull(countIf(Timestamp < window_start AND StatusCode = 'Error') / nullIf(baseline_steps, 0), 0) AS baseline_rate,
    current_steps >= {min_steps:UInt64}
        AND current_rate >= {min_rate:Float64}
        AND current_rate >= {factor:Float64} * baseline_rate * (1 - 1e-9) AS fires
FROM agent_steps_resolved(tenant = {tenant:String},
    since = toDateTime64({as_of:DateTime64(3)}, 9)
        - toIntervalMillisecond(toInt64(({window_s:Float64} + {baseline_s:Float64}) * 1000)),
    until = toDateTime64({as_of:DateTime64(3)}, 9))
WHERE NOT IsRunSpan
  AND Timestamp >= baseline_start AND Timestamp < as_of
  AND ({tenant:String} = '*' OR Tenant = {tenant:String})
GROUP BY GROUPING SETS ((Tenant), (Tenant, AgentName))
ORDER BY tenant, agent
