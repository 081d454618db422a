-- Cost and token breakdown of model calls (IsModelCall: wrapper spans never add their children's
-- usage again) by the dimensions in {by}: any of model (response model, else request model),
-- provider, agent, service, tenant, step_kind and variant (experiment/variant), and at most one
-- time bucket: hour, day, week (from Monday) or month, calendar-aligned in {timezone}; a bucket
-- is shown as its local start time. Dimensions not in {by} are '' (reports.py drops their columns).
-- Per group: the five token buckets and their total, CostUSD (our price) and ReportedCostUSD
-- (the source's own, NULL when none reported), and the calls without a price with their tokens
-- and share of the group's tokens, so a total is never silently low. share_of_cost is the
-- group's part of the cost of every group. {tenant} '*' = every tenant (operator key).
-- Read from agent_costs_resolved (migrations/0088): quarter-hour sums, so every bucket in every
-- time zone is a union of them.
SELECT
    if(has({by:Array(String)}, 'hour') OR has({by:Array(String)}, 'day') OR has({by:Array(String)}, 'week')
       OR has({by:Array(String)}, 'month'),
       formatDateTime(bucket_start, '%Y-%m-%d %H:%i'), '') AS bucket,
    if(has({by:Array(String)}, 'tenant'), Tenant, '') AS tenant,
    if(has({by:Array(String)}, 'service'), ServiceName, '') AS service,
    if(has({by:Array(String)}, 'agent'), AgentName, '') AS agent,
    if(has({by:Array(String)}, 'step_kind'), StepKind, '') AS step_kind,
    if(has({by:Array(String)}, 'provider'), Provider, '') AS provider,
    if(has({by:Array(String)}, 'model'), Model, '') AS model,
    if(has({by:Array(String)}, 'variant') AND ExperimentId != '', concat(ExperimentId, '/', Variant), '') AS variant,
    sum(Calls) AS model_calls,
    sum(InputTokens) AS input_tokens,
    sum(CachedInputTokens) AS cached_input_tokens,
    sum(CacheWriteTokens) AS cache_write_tokens,
    sum(OutputTokens) AS output_tokens,
    sum(ReasoningTokens) AS reasoning_tokens,
    sum(TotalTokens) AS total_tokens,
    round(sum(CostUSD), 6) AS cost_usd,
    round(if(sum(ReportedCalls) > 0, sum(ReportedCostSum), NULL), 6) AS reported_cost_usd,
    sum(UnpricedCalls) AS unpriced_calls,
    sum(UnpricedTokens) AS unpriced_tokens,
    round(unpriced_tokens / nullIf(total_tokens, 0), 4) AS unpriced_token_share,
    round(sum(CostUSD) / nullIf(sum(sum(CostUSD)) OVER (), 0), 4) AS share_of_cost
FROM
(
    SELECT
        *,
        toDateTime(Quarter, {timezone:String}) AS local_time,
        multiIf(
            has({by:Array(String)}, 'hour'), toStartOfHour(local_time),
            has({by:Array(String)}, 'day'), toStartOfDay(local_time),
            has({by:Array(String)}, 'week'), toDateTime(toMonday(local_time), {timezone:String}),
            has({by:Array(String)}, 'month'), toDateTime(toStartOfMonth(local_time), {timezone:String}),
            toDateTime(0, {timezone:String})) AS bucket_start
    FROM agent_costs_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
    WHERE {agent:String} = '' OR AgentName = {agent:String}
)
GROUP BY bucket_start, bucket, tenant, service, agent, step_kind, provider, model, variant
ORDER BY bucket_start, cost_usd DESC, tenant, service, agent, step_kind, provider, model, variant
