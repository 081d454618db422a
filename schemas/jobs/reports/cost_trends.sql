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
    -- Each group's buckets with data and the whole calendar series (the same for every group),
    -- in one array: a bucket of the series keeps its group's figures, or zeros. One read of
    -- per_bucket, which ClickHouse would compute again for each reference to it.
    filled AS
    (
        SELECT
            grp,
            e.1 AS bucket_start,
            sum(e.2) AS model_calls,
            sum(e.3) AS cost,
            sum(e.4) AS tokens,
            sum(e.5) AS unpriced,
            max(e.6) AS in_series
        FROM
        (
            SELECT
                grp,
                groupArray((bucket_start, model_calls, cost, tokens, unpriced, false)) AS points,
                min(min(bucket_start)) OVER () AS first,
                max(max(bucket_start)) OVER () AS last
            FROM per_bucket
            GROUP BY grp
        )
        ARRAY JOIN arrayConcat(points, arrayMap(
            k -> (
                multiIf(
                    {bucket:String} = 'hour', addHours(first, k),
                    {bucket:String} = 'day', addDays(first, k),
                    {bucket:String} = 'week', addWeeks(first, k),
                    addMonths(first, k)),
                0, 0, 0, 0, true),
            range(toUInt64(dateDiff({bucket:String}, first, last) + 1)))) AS e
        GROUP BY grp, bucket_start
        HAVING in_series
    )
SELECT
    formatDateTime(bucket_start, '%Y-%m-%d %H:%i') AS bucket,
    grp.1 AS tenant,
    grp.2 AS service,
    grp.3 AS agent,
    grp.4 AS step_kind,
    grp.5 AS provider,
    grp.6 AS model,
    grp.7 AS variant,
    model_calls,
    tokens AS total_tokens,
    round(cost, 6) AS cost_usd,
    unpriced AS unpriced_calls,
    if(row_number() OVER w = 1, NULL, round(lagInFrame(cost) OVER w, 6)) AS previous_cost_usd,
    round(cost_usd - previous_cost_usd, 6) AS change_usd,
    round(change_usd / nullIf(previous_cost_usd, 0), 4) AS change_pct,
    if(row_number() OVER w = 1, NULL, toInt64(tokens) - toInt64(lagInFrame(tokens) OVER w)) AS change_tokens
FROM filled
WINDOW w AS (PARTITION BY grp ORDER BY bucket_start ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
ORDER BY tenant, service, agent, step_kind, provider, model, variant, bucket_start
