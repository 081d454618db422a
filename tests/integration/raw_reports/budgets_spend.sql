-- Spend of every budget in its current period and the run-rate projection to the period end.
-- Parameters are parallel arrays, one element per budget, because each budget has its own
-- calendar period in its own time zone, which the caller computes (ClickHouse takes a zone only
-- as a constant): period_starts / period_ends; window_starts = as_of minus the run-rate window W
-- (the period's nominal length, at most 7 days), floored to the quarter hour; seen_starts =
-- window_starts minus W. Every one of these is a quarter-hour instant (period starts are local
-- hours, days, weeks or months, and every zone's offset is a multiple of 15 minutes).
-- Counted: model calls (IsModelCall) of the budget's tenant ('*' = all) whose service, agent (as
-- resolved: agent_steps_resolved) and
-- model (ResponseModel, else RequestModel) match its scope ('' = any), from the period start to
-- {as_of}. USD budgets sum CostUSD (unpriced calls count 0 and are reported as unpriced_calls);
-- token budgets sum all five token buckets.
-- Run rate: the spend in [window_start, as_of) divided by that span. For a tenant with no model
-- call in [seen_start, window_start) (a new tenant), the span starts at its first model call
-- instead, so its first hours are not divided by a week; never below an hour (or the whole span
-- when it is shorter): projected = spent + rate * (period_end - as_of). crossing_at is when that
-- line reaches the limit, when it does before the period ends and has not already.
-- State: exceeded at 100 % or more, warning from the lowest threshold under 100 %, projected_over
-- when the projection reaches 100 %, otherwise ok.
-- How: one pass folds the rows into quarter hours per tenant, service, agent and model (every
-- boundary above is a quarter hour, so nothing is split); the budgets are then matched against
-- those few groups rather than against every row.
WITH
    {tenants:Array(String)} AS tenants,
    {services:Array(String)} AS services,
    {agents:Array(String)} AS agents,
    {models:Array(String)} AS models,
    {period_starts:Array(DateTime64(3))} AS period_starts,
    {period_ends:Array(DateTime64(3))} AS period_ends,
    {window_starts:Array(DateTime64(3))} AS window_starts,
    {seen_starts:Array(DateTime64(3))} AS seen_starts,
    {units:Array(String)} AS units,
    {limits:Array(Float64)} AS limits,
    {warn_at:Array(Float64)} AS warn_at,
    toDateTime64({as_of:DateTime64(3)}, 3) AS as_of,
    quarters AS
    (
        SELECT
            Tenant AS tenant,
            ServiceName AS service,
            AgentName AS agent,
            if(ResponseModel != '', ResponseModel, RequestModel) AS model,
            toDateTime64(toStartOfFifteenMinutes(Timestamp), 3) AS quarter,
            sum(ifNull(CostUSD, 0)) AS cost,
            sum(TotalTokens) AS tokens,
            countIf(CostUSD IS NULL) AS unpriced,
            toDateTime64(min(Timestamp), 3) AS first_call
        FROM agent_steps_resolved(tenant = '*', since = {since:DateTime64(3)}, until = {as_of:DateTime64(3)})
        WHERE IsModelCall
          AND Timestamp >= {since:DateTime64(3)} AND Timestamp < as_of
          AND (has(tenants, '*') OR has(tenants, Tenant))
        GROUP BY tenant, service, agent, model, quarter
    ),
    per_budget AS
    (
        SELECT
            idx,
            sumIf(cost, in_scope AND quarter >= period_starts[idx]) AS spent_usd,
            sumIf(tokens, in_scope AND quarter >= period_starts[idx]) AS spent_tokens,
            sumIf(unpriced, in_scope AND quarter >= period_starts[idx]) AS unpriced_calls,
            sumIf(cost, in_scope AND quarter >= window_starts[idx]) AS window_usd,
            sumIf(tokens, in_scope AND quarter >= window_starts[idx]) AS window_tokens,
            minIf(first_call, quarter >= seen_starts[idx]) AS first_seen
        FROM
        (
            SELECT
                idx, quarter, cost, tokens, unpriced, first_call,
                (services[idx] = '' OR services[idx] = service)
                    AND (agents[idx] = '' OR agents[idx] = agent)
                    AND (models[idx] = '' OR models[idx] = model) AS in_scope
            FROM quarters
            ARRAY JOIN arrayEnumerate(tenants) AS idx
            WHERE (tenants[idx] = '*' OR tenants[idx] = tenant)
              AND quarter >= least(period_starts[idx], seen_starts[idx])
        )
        GROUP BY idx
    )
SELECT
    b.idx AS idx,
    period_starts[idx] AS period_start,
    period_ends[idx] AS period_end,
    if(units[idx] = 'usd', s.spent_usd, toFloat64(s.spent_tokens)) AS spent,
    limits[idx] AS `limit`,
    round(100 * spent / limits[idx], 4) AS percent,
    s.unpriced_calls AS unpriced_calls,
    dateDiff('millisecond', window_starts[idx], as_of) / 1000 AS window_s,
    if(s.idx = 0, as_of, s.first_seen) AS first_seen,
    least(window_s,
          greatest(dateDiff('millisecond', greatest(window_starts[idx], first_seen), as_of) / 1000,
                   least(3600, window_s))) AS rate_window_s,
    if(units[idx] = 'usd', s.window_usd, toFloat64(s.window_tokens)) / rate_window_s AS rate_per_s,
    spent + rate_per_s * greatest(dateDiff('millisecond', as_of, period_ends[idx]) / 1000, 0) AS projected,
    round(100 * projected / limits[idx], 4) AS projected_percent,
    if(rate_per_s > 0, (limits[idx] - spent) / rate_per_s, inf) AS seconds_to_limit,
    if(spent < limits[idx] AND seconds_to_limit < dateDiff('millisecond', as_of, period_ends[idx]) / 1000,
       as_of + toIntervalMillisecond(toInt64(least(seconds_to_limit, 1e11) * 1000)), NULL) AS crossing_at,
    multiIf(percent >= 100, 'exceeded', percent >= warn_at[idx], 'warning',
            projected_percent >= 100, 'projected_over', 'ok') AS state
FROM (SELECT arrayJoin(arrayEnumerate(tenants)) AS idx) AS b
LEFT JOIN per_budget AS s ON s.idx = b.idx
ORDER BY idx
