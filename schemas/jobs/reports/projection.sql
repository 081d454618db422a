-- Period-end spend from the current run rate, per group of the dimensions in {by} (model,
-- provider, agent, service, tenant, step_kind, variant; none = the total; others are '' and
-- reports.py drops their columns). The same method as budget status (budgets/spend.sql):
--   as_of        = the earlier of {until} and now
--   period       = the {period} (hourly, daily, weekly from Monday, monthly) holding as_of,
--                  calendar-aligned in {timezone}
--   spent        = CostUSD (tokens: all five buckets) of model calls from the period start to as_of
--   run rate     = spend in the trailing window [as_of - W, as_of) (its start floored to the
--                  quarter hour, as budget status does), W = the period's nominal length
--                  (month = 30 days) capped at 7 days, divided by its span; when the report's
--                  scope had no model call in the W before the window (new data), W starts at
--                  its first model call instead, but never below an hour (or W when shorter)
--   projected    = spent + rate * (period_end - as_of)
-- So for a month: the trailing 7-day mean per day times the days left, plus the spend so far.
-- {tenant} '*' = every tenant (operator key); {since} is not used (the period and window fix the range,
-- at most 32 days before as_of). Agents as resolved (agent_steps_resolved). Read from
-- agent_costs_resolved (migrations/0088): every boundary above is a quarter hour.
WITH
    toDateTime64(least({until:DateTime64(9)}, now64(9)), 3) AS as_of,
    toDateTime(as_of, {timezone:String}) AS local_as_of,
    multiIf(
        {period:String} = 'hourly', toStartOfHour(local_as_of),
        {period:String} = 'daily', toStartOfDay(local_as_of),
        {period:String} = 'weekly', toDateTime(toMonday(local_as_of), {timezone:String}),
        toDateTime(toStartOfMonth(local_as_of), {timezone:String})) AS local_start,
    multiIf(
        {period:String} = 'hourly', addHours(local_start, 1),
        {period:String} = 'daily', addDays(local_start, 1),
        {period:String} = 'weekly', addWeeks(local_start, 1),
        addMonths(local_start, 1)) AS local_end,
    toDateTime64(local_start, 3, 'UTC') AS period_start_utc,
    toDateTime64(local_end, 3, 'UTC') AS period_end_utc,
    multiIf({period:String} = 'hourly', 3600, {period:String} = 'daily', 86400, {period:String} = 'weekly', 604800, 604800) AS window_s,
    toDateTime64(toStartOfFifteenMinutes(as_of - toIntervalSecond(window_s)), 3) AS window_start,
    (
        SELECT ifNull(toDateTime64(min(FirstCall), 3), as_of)
        FROM agent_costs_resolved(tenant = {tenant:String},
        since = toDateTime64(least({until:DateTime64(9)}, now64(9)), 9) - toIntervalDay(32),
        until = toDateTime64(toDateTime64(least({until:DateTime64(9)}, now64(9)), 3), 9),
        service = {service:String})
        WHERE Quarter >= window_start - toIntervalSecond(window_s)
          AND ({agent:String} = '' OR AgentName = {agent:String})
    ) AS first_seen,
    dateDiff('millisecond', window_start, as_of) / 1000 AS span_s,
    least(span_s, greatest(dateDiff('millisecond', greatest(window_start, first_seen), as_of) / 1000,
                           least(3600, span_s))) AS rate_window_s,
    greatest(dateDiff('millisecond', as_of, period_end_utc) / 1000, 0) AS seconds_left
SELECT
    if(has({by:Array(String)}, 'tenant'), Tenant, '') AS tenant,
    if(has({by:Array(String)}, 'service'), ServiceName, '') AS service,
    if(has({by:Array(String)}, 'agent'), AgentName, '') AS agent,
    if(has({by:Array(String)}, 'step_kind'), StepKind, '') AS step_kind,
    if(has({by:Array(String)}, 'provider'), Provider, '') AS provider,
    if(has({by:Array(String)}, 'model'), Model, '') AS model,
    if(has({by:Array(String)}, 'variant') AND ExperimentId != '', concat(ExperimentId, '/', Variant), '') AS variant,
    any(period_start_utc) AS period_start,
    any(period_end_utc) AS period_end,
    any(as_of) AS projected_from,
    round(sumIf(CostUSD, Quarter >= period_start_utc), 6) AS spent_usd,
    round(sumIf(CostUSD, Quarter >= window_start), 6) AS window_usd,
    round(any(rate_window_s) / 86400, 4) AS rate_window_days,
    round(sumIf(CostUSD, Quarter >= window_start) / any(rate_window_s) * 86400, 6) AS daily_rate_usd,
    round(sumIf(CostUSD, Quarter >= period_start_utc)
          + sumIf(CostUSD, Quarter >= window_start) / any(rate_window_s) * any(seconds_left), 6) AS projected_usd,
    sumIf(TotalTokens, Quarter >= period_start_utc) AS spent_tokens,
    round(sumIf(TotalTokens, Quarter >= period_start_utc)
          + sumIf(TotalTokens, Quarter >= window_start) / any(rate_window_s) * any(seconds_left)) AS projected_tokens,
    sumIf(UnpricedCalls, Quarter >= period_start_utc) AS unpriced_calls
FROM agent_costs_resolved(tenant = {tenant:String},
    since = toDateTime64(least({until:DateTime64(9)}, now64(9)), 9) - toIntervalDay(32),
    until = toDateTime64(toDateTime64(least({until:DateTime64(9)}, now64(9)), 3), 9),
    service = {service:String})
WHERE Quarter >= least(period_start_utc, window_start)
  AND ({agent:String} = '' OR AgentName = {agent:String})
GROUP BY tenant, service, agent, step_kind, provider, model, variant
ORDER BY projected_usd DESC, tenant, service, agent, step_kind, provider, model, variant
