-- The recommendations report (reports/recommendations.sql) with its run quality and runaway runs
-- computed from the steps: reports.VARIANTS runs it instead when an agent is asked for (only that
-- agent's steps then count in a run's quality and steps, which a run's rollup row cannot give) or
-- when the range holds steps other libraries instrumented (agent_runs_resolved would recompute
-- each of their runs from the steps once for each of its two uses). Figures as the report's.
-- Cost recommendations from the stored steps of [since, until), each with its evidence and an
-- estimated monthly saving: the saving over the range scaled to 30 days by the range's data span
-- (first to last model call, at least one day). Kinds:
--   cheaper_model   on the same agent and step (StepName), a model whose mean cost per priced
--                   call is lower, whose success rate (calls not in Error) is at most
--                   {success_tolerance} lower and whose mean quality is at most {quality_tolerance}
--                   lower (a call's quality: its own QualityScore, else its run's mean; compared only
--                   when both models have scores), each model with at least {min_samples} calls.
--                   Saving: the cost difference per call times the current model's calls (the best
--                   alternative per agent, step and model).
--   input_heavy     agent, step and model whose input side (uncached, cached and cache-write input
--                   tokens at their base prices, tiers ignored) is at least {input_share} of its
--                   token cost. Saving: that input cost times {prompt_trim}, the share a shorter
--                   prompt or history would cut.
--   cache_potential agent, provider and model on a provider with prompt caching (openai,
--                   azure.ai.openai, anthropic, aws.bedrock, gcp.gemini, gcp.vertex_ai, deepseek,
--                   x_ai) with prompts of {min_prompt_tokens} input tokens or more on average, less
--                   than {cached_share} of them read from the cache. Saving: {cacheable_share} of the
--                   uncached input tokens priced at the cache-read price instead of the input price.
--   runaway_runs    per agent, runs with more than {runaway_factor} times the agent's median steps
--                   per run (a run's own span not counted; agents with {min_samples} runs or more).
--                   Saving: each such run's cost above what the median step count would have cost.
--   retried_tools   per agent and tool, calls in Error followed by another call of the same tool in
--                   the same run. Saving: one model call per retry (the call that decided to retry),
--                   at the agent's mean cost per model call.
-- Prices of input_heavy and cache_potential come from model_prices by the step's PriceId (its
-- latest version, should a PriceId have several).
-- Runs are grouped and joined by a 64-bit hash of their key (a collision among 2M runs has odds
-- under 1e-7); each model's alternatives are compared within one row of its agent and step.
WITH
    (
        SELECT greatest(dateDiff('millisecond', min(Timestamp), max(Timestamp)) / 86400000, 1)
        FROM agent_steps
        WHERE Tenant = {tenant:String} AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND IsModelCall
    ) AS span_days,
    30 / span_days AS monthly,
    steps AS
    (
        SELECT *
        FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
        WHERE Tenant = {tenant:String}
          AND Timestamp >= {since:DateTime64(9)}
          AND Timestamp < {until:DateTime64(9)}
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND ({agent:String} = '' OR AgentName = {agent:String})
    ),
    run_quality AS
    (
        SELECT cityHash64(RunKey) AS run, avg(QualityScore) AS quality
        FROM steps
        WHERE QualityScore IS NOT NULL
        GROUP BY run
    ),
    -- The model calls per agent, step, provider and model, read once: a call's quality (its own
    -- score, else its run's mean) and its PriceId's latest prices joined to each call. The
    -- per-model figures, the priced figures and each agent's cost per model call are sums over
    -- these groups. A scalar subquery (one array of tuples), so it runs once for all three;
    -- a common table expression would read the steps again for each.
    (
        SELECT groupArray((
            agent, step, provider, model, calls, ok_calls, quality_sum, scored, cost_sum, costed,
            priced_calls, input_tokens, cached_tokens, write_tokens, input_cost, output_cost, cache_gap_cost))
        FROM
        (
            SELECT
                toString(s.AgentName) AS agent,
                s.StepName AS step,
                toString(s.Provider) AS provider,
                toString(if(s.ResponseModel != '', s.ResponseModel, s.RequestModel)) AS model,
                count() AS calls,
                countIf(s.StatusCode != 'Error') AS ok_calls,
                sum(ifNull(ifNull(s.QualityScore, q.quality), 0)) AS quality_sum,
                countIf(ifNull(s.QualityScore, q.quality) IS NOT NULL) AS scored,
                sum(ifNull(s.CostUSD, 0)) AS cost_sum,
                count(s.CostUSD) AS costed,
                countIf(p.priced) AS priced_calls,
                sumIf(s.InputTokens, p.priced) AS input_tokens,
                sumIf(s.CachedInputTokens, p.priced) AS cached_tokens,
                sumIf(s.CacheWriteTokens, p.priced) AS write_tokens,
                sumIf(s.InputTokens * p.input + s.CachedInputTokens * p.cached + s.CacheWriteTokens * p.write, p.priced) / 1e6 AS input_cost,
                sumIf(s.OutputTokens * p.output + s.ReasoningTokens * p.reasoning, p.priced) / 1e6 AS output_cost,
                sumIf(s.InputTokens * (p.input - p.cached), p.priced) / 1e6 AS cache_gap_cost
            FROM steps AS s
            LEFT JOIN run_quality AS q ON q.run = cityHash64(s.RunKey)
            LEFT ANY JOIN
            (
                -- A PriceId's latest prices (the savings are estimated from now on), one row each.
                SELECT
                    PriceId,
                    true AS priced,
                    argMax(InputPerMTok, EffectiveFrom) AS input,
                    argMax(ifNull(CachedInputPerMTok, InputPerMTok), EffectiveFrom) AS cached,
                    argMax(ifNull(CacheWritePerMTok, InputPerMTok), EffectiveFrom) AS write,
                    argMax(OutputPerMTok, EffectiveFrom) AS output,
                    argMax(ifNull(ReasoningPerMTok, OutputPerMTok), EffectiveFrom) AS reasoning
                FROM model_prices FINAL
                WHERE PriceId != ''
                GROUP BY PriceId
            ) AS p ON p.PriceId = s.PriceId
            WHERE s.IsModelCall
            GROUP BY agent, step, provider, model
        )
    ) AS model_calls,
    per_model AS
    (
        SELECT
            c.1 AS agent,
            c.2 AS step,
            c.4 AS model,
            sum(c.5) AS calls,
            sum(c.6) / calls AS success_rate,
            sum(c.8) AS scored,
            if(scored > 0, sum(c.7) / scored, NULL) AS quality,
            if(sum(c.10) > 0, sum(c.9) / sum(c.10), NULL) AS cost_per_call
        FROM (SELECT arrayJoin(model_calls) AS c)
        GROUP BY agent, step, model
        HAVING calls >= {min_samples:UInt32} AND cost_per_call > 0
    ),
    cheaper_models AS
    (
        SELECT
            agent,
            step,
            m,
            arraySort(c -> (c.6, c.1), arrayFilter(
                c -> c.1 != m.1
                    AND c.6 < m.6
                    AND c.3 >= m.3 - {success_tolerance:Float64}
                    AND (m.5 = 0 OR c.5 = 0 OR ifNull(c.4 >= m.4 - {quality_tolerance:Float64}, 0)),
                options))[1] AS c
        FROM
        (
            SELECT agent, step, groupArray((model, calls, success_rate, quality, scored, cost_per_call)) AS options
            FROM per_model
            GROUP BY agent, step
        )
        ARRAY JOIN options AS m
        WHERE arrayExists(
            c -> c.1 != m.1
                AND c.6 < m.6
                AND c.3 >= m.3 - {success_tolerance:Float64}
                AND (m.5 = 0 OR c.5 = 0 OR ifNull(c.4 >= m.4 - {quality_tolerance:Float64}, 0)),
            options)
    ),
    -- Input-heavy calls are judged per agent, step and model, the cache per agent, provider and model.
    priced AS
    (
        SELECT
            c.1 AS agent,
            c.2 AS step,
            c.3 AS provider,
            c.4 AS model,
            grouping(step) = 0 AS per_step,
            sum(c.11) AS calls,
            sum(c.12) AS input_tokens,
            sum(c.13) AS cached_tokens,
            sum(c.14) AS write_tokens,
            sum(c.15) AS input_cost,
            sum(c.16) AS output_cost,
            sum(c.17) AS cache_gap_cost
        FROM (SELECT arrayJoin(model_calls) AS c)
        WHERE c.11 > 0
        GROUP BY GROUPING SETS ((agent, step, provider, model), (agent, provider, model))
    ),
    -- Runs with an agent span, grouped per agent once: the median steps per run and, against it,
    -- the runaway runs (their count, the excess cost, the longest run as the example, the greatest
    -- run id among equally long ones, so the example does not depend on the order rows are read in).
    -- The runs come from agent_runs_resolved (the rollup where it is exact; at 10M steps 1.3 s
    -- where grouping every step per run took 2.2 s), unless an agent is asked for: then only that
    -- agent's steps count, which a run's rollup row cannot give, and they are grouped from the steps.
    run_agents AS
    (
        SELECT
            agent,
            count() AS run_count,
            quantileExact(0.5)(steps) AS median_steps,
            groupArray((steps, cost)) AS step_costs,
            max(steps) AS max_steps,
            argMax(run_key, (steps, run_key)) AS longest_run
        FROM
        (
            SELECT run_id AS run_key, agent, steps, ifNull(cost_usd, 0) AS cost
            FROM agent_runs_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
            WHERE {agent:String} = '' AND Tenant = {tenant:String} AND agent_spans > 0
            UNION ALL
            SELECT
                any(RunKey) AS run_key,
                argMaxIf(AgentName, DurationMs, StepKind = 'agent') AS agent,
                countIf(NOT IsRunSpan) AS steps,
                sumIf(ifNull(CostUSD, 0), IsModelCall) AS cost
            FROM steps
            WHERE {agent:String} != ''
            GROUP BY cityHash64(RunKey)
            HAVING countIf(StepKind = 'agent') > 0
        )
        GROUP BY agent
        HAVING run_count >= {min_samples:UInt32}
    ),
    tool_calls AS
    (
        -- Per run, agent and tool (one 64-bit key): its failed calls less one if the latest failed
        -- (of two calls at the same nanosecond the failed one counts as the later), as the rollup form.
        SELECT
            any(AgentName) AS agent,
            any(StepName) AS tool,
            count() AS run_calls,
            countIf(StatusCode = 'Error') AS run_failed,
            toUInt64(run_failed - max((Timestamp, StatusCode = 'Error')).2) AS retried
        FROM steps
        WHERE StepKind = 'tool'
        GROUP BY cityHash64(RunKey, AgentName, StepName)
    ),
    agent_call_cost AS
    (
        SELECT c.1 AS agent, if(sum(c.10) > 0, sum(c.9) / sum(c.10), NULL) AS per_call
        FROM (SELECT arrayJoin(model_calls) AS c)
        GROUP BY agent
    )
SELECT * FROM
(
    SELECT
        'cheaper_model' AS kind,
        agent,
        step,
        m.1 AS model,
        concat('use ', c.1, ' instead of ', m.1) AS suggestion,
        concat(
            c.1, ': $', toString(round(c.6, 6)), ' per call over ', toString(c.2), ' calls, success ',
            toString(round(100 * c.3, 1)), '%',
            if(isNull(c.4), '', concat(', quality ', toString(round(c.4, 3)))),
            '; ', m.1, ': $', toString(round(m.6, 6)), ' per call over ', toString(m.2), ' calls, success ',
            toString(round(100 * m.3, 1)), '%',
            if(isNull(m.4), '', concat(', quality ', toString(round(m.4, 3))))) AS evidence,
        m.2 AS sample,
        round((m.6 - c.6) * m.2 * monthly, 4) AS estimated_monthly_saving_usd
    FROM cheaper_models

    UNION ALL

    SELECT
        if(per_step, 'input_heavy', 'cache_potential'),
        agent,
        if(per_step, step, ''),
        model,
        if(per_step, 'shorten the prompt or the history sent with each call',
           concat('cache the stable prompt prefix (', provider, ' prompt caching)')),
        if(per_step,
           concat('input is ', toString(round(100 * input_cost / (input_cost + output_cost), 1)), '% of the token cost ($',
                  toString(round(input_cost, 4)), ' of $', toString(round(input_cost + output_cost, 4)), ') over ',
                  toString(calls), ' calls, ', toString(intDiv(input_tokens + cached_tokens + write_tokens, calls)),
                  ' input tokens per call'),
           concat(toString(round(100 * cached_tokens / (input_tokens + cached_tokens + write_tokens), 1)),
                  '% of ', toString(input_tokens + cached_tokens + write_tokens),
                  ' input tokens read from the cache over ', toString(calls), ' calls, ',
                  toString(intDiv(input_tokens + cached_tokens + write_tokens, calls)),
                  ' per call')),
        calls,
        round(if(per_step, input_cost * {prompt_trim:Float64}, cache_gap_cost * {cacheable_share:Float64}) * monthly, 4)
    FROM priced
    WHERE calls >= {min_samples:UInt32}
      AND if(per_step,
             input_cost + output_cost > 0
                 AND input_cost / (input_cost + output_cost) >= {input_share:Float64},
             provider IN ('openai', 'azure.ai.openai', 'anthropic', 'aws.bedrock', 'gcp.gemini', 'gcp.vertex_ai', 'deepseek', 'x_ai')
                 AND (input_tokens + cached_tokens + write_tokens) / calls >= {min_prompt_tokens:Float64}
                 AND cached_tokens / (input_tokens + cached_tokens + write_tokens) < {cached_share:Float64}
                 AND cache_gap_cost > 0)

    UNION ALL

    SELECT
        'runaway_runs',
        agent,
        '',
        '',
        concat('cap the steps of ', agent, ' (e.g. a step limit or a stop condition)'),
        concat(toString(length(runaway)), ' of ', toString(run_count), ' runs took more than ',
               toString({runaway_factor:Float64}), 'x the median of ', toString(median_steps),
               ' steps (up to ', toString(max_steps), '); e.g. run ', longest_run),
        length(runaway),
        round(arraySum(r -> r.2 * (1 - median_steps / r.1), runaway) * monthly, 4)
    FROM
    (
        SELECT *, arrayFilter(r -> r.1 > {runaway_factor:Float64} * median_steps, step_costs) AS runaway
        FROM run_agents
    )
    WHERE notEmpty(runaway)

    UNION ALL

    SELECT
        'retried_tools',
        t.agent,
        t.tool,
        '',
        concat('make ', t.tool, ' fail less or retry it inside the tool, not through the model'),
        concat(toString(sum(t.retried)), ' calls of ', t.tool, ' failed and were called again in ',
               toString(countIf(t.retried > 0)), ' runs; ',
               toString(sum(t.run_failed)), ' of ', toString(sum(t.run_calls)), ' calls failed'),
        sum(t.retried),
        round(sum(t.retried) * ifNull(any(a.per_call), 0) * monthly, 4)
    FROM tool_calls AS t
    LEFT JOIN agent_call_cost AS a ON a.agent = t.agent
    GROUP BY t.agent, t.tool
    HAVING sum(t.retried) > 0
)
ORDER BY estimated_monthly_saving_usd DESC, kind, agent, step, model
