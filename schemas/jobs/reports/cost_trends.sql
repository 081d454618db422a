-- Cost and tokens of model calls per time bucket ({bucket}: hour, day, week from Monday, or
-- month, calendar-aligned in {timezone}; shown as the bucket's local start), optionally per group
-- of the dimensions in {by} (model, provider, agent, service, tenant, step_kind, variant; others
-- are '' and reports.py drops their columns), with the change against the previous bucket of the
-- same group. Every bucket from the first to the last one holding data is listed, empty ones as
-- zeros, so "previous" is always the calendar bucket before; the first has no previous (NULL).
-- change_pct is the change over the previous bucket's cost (NULL when that was 0).
-- {tenant} '*' = every tenant (operator key). Read from agent_costs_resolved (migrations/0088):
-- quarter-hour sums, so every bucket in every time zone is a union of them.
WITH
    per_bucket AS
    (
        SELECT
            multiIf(
                {bucket:String} = 'hour', toStartOfHour(local_time),
                {bucket:String} = 'day', toStartOfDay(local_time),
                {bucket:String} = 'week', toDateTime(toMonday(local_time), {timezone:String}),
                toDateTime(toStartOfMonth(local_time), {timezone:String})) AS bucket_start,
            (
                if(has({by:Array(String)}, 'tenant'), Tenant, ''),
                if(has({by:Array(String)}, 'service'), ServiceName, ''),
                if(has({by:Array(String)}, 'agent'), AgentName, ''),
                if(has({by:Array(String)}, 'step_kind'), StepKind, ''),
                if(has({by:Array(String)}, 'provider'), Provider, ''),
                if(has({by:Array(String)}, 'model'), Model, ''),
                if(has({by:Array(String)}, 'variant') AND ExperimentId != '', concat(ExperimentId, '/', Variant), '')
            ) AS grp,
            sum(Calls) AS model_calls,
            sum(CostUSD) AS cost,
            sum(TotalTokens) AS tokens,
            sum(UnpricedCalls) AS unpriced
        FROM
        (
            SELECT *, toDateTime(Quarter, {timezone:String}) AS local_time
            FROM agent_costs_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
            WHERE {agent:String} = '' OR AgentName = {agent:String}
        )
        GROUP BY bucket_start, grp
    ),
    series AS
    (
        SELECT arrayJoin(arrayMap(
            k -> multiIf(
                {bucket:String} = 'hour', addHours(first, k),
                {bucket:String} = 'day', addDays(first, k),
                {bucket:String} = 'week', addWeeks(first, k),
                addMonths(first, k)),
            range(toUInt64(dateDiff({bucket:String}, first, last) + 1)))) AS bucket_start
        FROM (SELECT min(bucket_start) AS first, max(bucket_start) AS last FROM per_bucket)
    )
SELECT
    formatDateTime(s.bucket_start, '%Y-%m-%d %H:%i') AS bucket,
    g.grp.1 AS tenant,
    g.grp.2 AS service,
    g.grp.3 AS agent,
    g.grp.4 AS step_kind,
    g.grp.5 AS provider,
    g.grp.6 AS model,
    g.grp.7 AS variant,
    d.model_calls AS model_calls,
    d.tokens AS total_tokens,
    round(d.cost, 6) AS cost_usd,
    d.unpriced AS unpriced_calls,
    if(row_number() OVER w = 1, NULL, round(lagInFrame(d.cost) OVER w, 6)) AS previous_cost_usd,
    round(cost_usd - previous_cost_usd, 6) AS change_usd,
    round(change_usd / nullIf(previous_cost_usd, 0), 4) AS change_pct,
    if(row_number() OVER w = 1, NULL, toInt64(d.tokens) - toInt64(lagInFrame(d.tokens) OVER w)) AS change_tokens
FROM series AS s
CROSS JOIN (SELECT DISTINCT grp FROM per_bucket) AS g
LEFT JOIN per_bucket AS d ON d.bucket_start = s.bucket_start AND d.grp = g.grp
WINDOW w AS (PARTITION BY g.grp ORDER BY s.bucket_start ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
ORDER BY tenant, service, agent, step_kind, provider, model, variant, s.bucket_start
