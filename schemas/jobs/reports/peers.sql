-- Peer comparison: each agent against the mean of the other agents of its type (agents of the
-- same service). Strengths are metrics better than that peer mean by more than {margin}
-- (relative), weaknesses worse by more than it. Higher is better for success rate and quality;
-- lower is better for p50 duration, tokens per execution and cost per execution.
WITH per_agent AS
(
    SELECT
        ServiceName AS service,
        AgentName AS agent,
        countIf(StepKind = 'agent') AS executions,
        toNullable(countIf(StepKind = 'agent' AND StatusCode != 'Error') / nullIf(executions, 0)) AS success_rate,
        toNullable(quantileExactIf(0.5)(DurationMs, StepKind = 'agent')) AS p50_ms,
        toNullable(sumIf(InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens,
                         IsModelCall) / nullIf(executions, 0)) AS tokens_per_run,
        toNullable(sumIf(CostUSD, IsModelCall) / nullIf(executions, 0)) AS cost_per_run,
        toNullable(avg(QualityScore)) AS quality
    FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
    WHERE AgentName != ''
    GROUP BY service, agent
    HAVING executions > 0
),
with_peers AS
(
    SELECT
        *,
        count() OVER w - 1 AS peers,
        (sum(success_rate) OVER w - ifNull(success_rate, 0))
            / nullIf(count(success_rate) OVER w - (success_rate IS NOT NULL), 0) AS peer_success_rate,
        (sum(p50_ms) OVER w - ifNull(p50_ms, 0))
            / nullIf(count(p50_ms) OVER w - (p50_ms IS NOT NULL), 0) AS peer_p50_ms,
        (sum(tokens_per_run) OVER w - ifNull(tokens_per_run, 0))
            / nullIf(count(tokens_per_run) OVER w - (tokens_per_run IS NOT NULL), 0) AS peer_tokens_per_run,
        (sum(cost_per_run) OVER w - ifNull(cost_per_run, 0))
            / nullIf(count(cost_per_run) OVER w - (cost_per_run IS NOT NULL), 0) AS peer_cost_per_run,
        (sum(quality) OVER w - ifNull(quality, 0))
            / nullIf(count(quality) OVER w - (quality IS NOT NULL), 0) AS peer_quality
    FROM per_agent
    WINDOW w AS (PARTITION BY service)
)
SELECT * EXCEPT metrics
FROM
(
SELECT
    service,
    agent,
    executions,
    peers,
    round(success_rate, 4) AS success_rate,
    round(peer_success_rate, 4) AS peer_success_rate,
    round(p50_ms, 3) AS p50_ms,
    round(peer_p50_ms, 3) AS peer_p50_ms,
    round(tokens_per_run, 3) AS tokens_per_run,
    round(peer_tokens_per_run, 3) AS peer_tokens_per_run,
    round(cost_per_run, 6) AS cost_per_run,
    round(peer_cost_per_run, 6) AS peer_cost_per_run,
    round(quality, 4) AS quality,
    round(peer_quality, 4) AS peer_quality,
    [
        ('success_rate', success_rate, peer_success_rate, 1),
        ('p50_ms', p50_ms, peer_p50_ms, -1),
        ('tokens_per_run', tokens_per_run, peer_tokens_per_run, -1),
        ('cost_per_run', cost_per_run, peer_cost_per_run, -1),
        ('quality', quality, peer_quality, 1)
    ] AS metrics,
    arrayMap(m -> m.1, arrayFilter(
        m -> ifNull(m.3 != 0 AND m.4 * (m.2 - m.3) / abs(m.3) > {margin:Float64}, 0), metrics)) AS strengths,
    arrayMap(m -> m.1, arrayFilter(
        m -> ifNull(m.3 != 0 AND m.4 * (m.2 - m.3) / abs(m.3) < -{margin:Float64}, 0), metrics)) AS weaknesses
FROM with_peers
WHERE {agent:String} = '' OR agent = {agent:String}
)
ORDER BY service, agent
