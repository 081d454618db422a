-- Agents as resolved (agent_steps_resolved), whoever instrumented the steps.
-- Cost spikes per tenant, overall (agent = '*') and per agent: the spend of model calls in the
-- last {window_s} seconds before {as_of} (the current hour, sliding) against the mean spend per
-- window over the {baseline_s} seconds before it (the trailing 24 hourly means by default).
-- fires when the window's spend reaches {factor} times that mean (a relative 1e-9 is allowed
-- for float sums, so exactly 3.0x fires) and is at least {min_spend_usd}, the floor below which
-- nothing counts as a spike; a zero baseline with spend above the floor fires. Unpriced calls
-- count 0. {tenant} '*' = every tenant.
WITH
    toDateTime64({as_of:DateTime64(3)}, 3) AS as_of,
    as_of - toIntervalMillisecond(toInt64({window_s:Float64} * 1000)) AS window_start,
    window_start - toIntervalMillisecond(toInt64({baseline_s:Float64} * 1000)) AS baseline_start
SELECT
    Tenant AS tenant,
    if(grouping(AgentName) = 1, '*', AgentName) AS agent,
    sumIf(ifNull(CostUSD, 0), Timestamp >= window_start) AS current_usd,
    sumIf(ifNull(CostUSD, 0), Timestamp < window_start) * {window_s:Float64} / {baseline_s:Float64} AS baseline_usd,
    current_usd / nullIf(baseline_usd, 0) AS ratio,
    current_usd >= {min_spend_usd:Float64}
        AND current_usd >= {factor:Float64} * baseline_usd * (1 - 1e-9) AS fires
FROM agent_steps_resolved(tenant = {tenant:String},
    since = toDateTime64({as_of:DateTime64(3)}, 9)
        - toIntervalMillisecond(toInt64(({window_s:Float64} + {baseline_s:Float64}) * 1000)),
    until = toDateTime64({as_of:DateTime64(3)}, 9))
WHERE IsModelCall
  AND Timestamp >= baseline_start AND Timestamp < as_of
  AND ({tenant:String} = '*' OR Tenant = {tenant:String})
GROUP BY GROUPING SETS ((Tenant), (Tenant, AgentName))
ORDER BY tenant, agent
