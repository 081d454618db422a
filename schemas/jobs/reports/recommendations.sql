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
-- latest version, should a PriceId have several); each model's alternatives are compared within
-- one row of its agent and step.
-- How it reads (docs/performance.md, "Recommendations in four passes", "Model calls from a rollup"):
-- - model_calls: the model calls in the range per agent, step, provider and model, from the
--   agent_model_calls rollup (agent_model_calls_resolved: the rollup's rows where they are exact,
--   the steps elsewhere), each PriceId's tokens priced at its latest prices. The per-model figures,
--   the priced figures, each agent's cost per model call and the range's data span are all sums
--   over these groups. It is a scalar subquery (one array of tuples), so it runs once however many
--   parts read it; a common table expression would run again for each reference.
-- - run_quality: the model calls without a score of their own take their run's mean quality. Per
--   (agent, step, model) hash, the sum over runs of their count (agent_runs' UnscoredCalls) times
--   the run's quality, from agent_runs_resolved: the rollup's row where it is exact, the run
--   recomputed from its steps elsewhere.
-- - run_agents: runs with an agent span, per agent and step count (a handful of rows per agent):
--   the median steps per run and, against it, the runaway runs, from agent_runs_resolved too.
-- - tool_calls: per run, agent and tool, the calls, the failed ones and whether the latest failed
--   (a run's retries are its failed calls less that one), from the steps.
-- With an agent asked for, only that agent's steps count in a run, which a run's row cannot give:
-- reports.VARIANTS then runs report_variants/recommendations_from_steps.sql, which reads them from
-- the steps (as it does when the range holds steps of other libraries). Figures are the same.
WITH
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
    (
        SELECT groupArray((
            agent, step, provider, model, calls, ok_calls, quality_sum, scored, cost_sum, costed,
            priced_calls, input_tokens, cached_tokens, write_tokens, input_cost, output_cost,
            cache_gap_cost, first_call, last_call))
        FROM
        (
            SELECT
                agent,
                step,
                provider,
                model,
                sum(g.calls) AS calls,
                sum(g.ok_calls) AS ok_calls,
                sum(g.quality_sum) AS quality_sum,
                sum(g.scored) AS scored,
                sum(g.cost_sum) AS cost_sum,
                toUInt64(sum(g.costed)) AS costed,
                toUInt64(sumIf(g.price_calls, p.priced)) AS priced_calls,
                toUInt64(sumIf(g.price_input, p.priced)) AS input_tokens,
                toUInt64(sumIf(g.price_cached, p.priced)) AS cached_tokens,
                toUInt64(sumIf(g.price_write, p.priced)) AS write_tokens,
                sumIf(g.price_input * p.input + g.price_cached * p.cached + g.price_write * p.write, p.priced) / 1e6 AS input_cost,
                sumIf(g.price_output * p.output + g.price_reasoning * p.reasoning, p.priced) / 1e6 AS output_cost,
                sumIf(g.price_input * (p.input - p.cached), p.priced) / 1e6 AS cache_gap_cost,
                min(g.first_call) AS first_call,
                max(g.last_call) AS last_call
            FROM
            (
                -- Per group and PriceId: the rollup's rows unrolled by ByPrice and summed as plain
                -- columns (sumMap would merge its tuples value by value: 75 ms more at 10M steps).
                -- A row's own figures count once, with its first PriceId (n is 0 for a row
                -- without any, as LEFT ARRAY JOIN gives it).
                SELECT
                    toString(AgentName) AS agent,
                    StepName AS step,
                    toString(Provider) AS provider,
                    toString(Model) AS model,
                    e.1 AS price_id,
                    sumIf(Calls, n <= 1) AS calls,
                    sumIf(OkCalls, n <= 1) AS ok_calls,
                    sumIf(QualitySum, n <= 1) AS quality_sum,
                    sumIf(Scored, n <= 1) AS scored,
                    sumIf(CostUSD, n <= 1) AS cost_sum,
                    sumIf(Costed, n <= 1) AS costed,
                    sum(e.2) AS price_calls,
                    sum(e.3) AS price_input,
                    sum(e.4) AS price_cached,
                    sum(e.5) AS price_write,
                    sum(e.6) AS price_output,
                    sum(e.7) AS price_reasoning,
                    min(FirstCall) AS first_call,
                    max(LastCall) AS last_call
                FROM agent_model_calls_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
                LEFT ARRAY JOIN
                    arrayZip(ByPrice.1, ByPrice.2, ByPrice.3, ByPrice.4, ByPrice.5, ByPrice.6, ByPrice.7) AS e,
                    arrayEnumerate(ByPrice.1) AS n
                WHERE Tenant = {tenant:String}
                GROUP BY agent, step, provider, model, price_id
            ) AS g
            -- Each group's calls and tokens per PriceId, priced at the PriceId's latest prices.
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
            ) AS p ON p.PriceId = g.price_id
            GROUP BY agent, step, provider, model
        )
    ) AS model_calls,
    if(empty(model_calls), 1,
       greatest(dateDiff('millisecond', arrayMin(c -> c.18, model_calls), arrayMax(c -> c.19, model_calls)) / 86400000, 1)) AS span_days,
    30 / span_days AS monthly,
    -- Per (agent, step, model) hash. A group none of whose calls take a run's quality has no row here:
    -- its sums then join as 0, so they are not Nullable (quality is, but not in these rows).
    run_quality AS
    (
        SELECT group, sum(calls * assumeNotNull(quality)) AS quality_sum, sum(calls) AS scored
        FROM agent_runs_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
        ARRAY JOIN unscored_calls.1 AS group, unscored_calls.2 AS calls
        WHERE Tenant = {tenant:String} AND quality IS NOT NULL
        GROUP BY group
    ),
    per_model AS
    (
        SELECT
            m.agent AS agent,
            m.step AS step,
            m.model AS model,
            calls,
            ok_calls / calls AS success_rate,
            m.scored + q.scored AS scored,
            if(scored > 0, (m.quality_sum + q.quality_sum) / scored, NULL) AS quality,
            if(costed > 0, cost_sum / costed, NULL) AS cost_per_call
        FROM
        (
            SELECT c.1 AS agent, c.2 AS step, c.4 AS model, sum(c.5) AS calls, sum(c.6) AS ok_calls,
                   sum(c.7) AS quality_sum, sum(c.8) AS scored, sum(c.9) AS cost_sum, sum(c.10) AS costed
            FROM (SELECT arrayJoin(model_calls) AS c)
            GROUP BY agent, step, model
        ) AS m
        LEFT JOIN run_quality AS q ON q.group = cityHash64(m.agent, m.step, m.model)
        WHERE calls >= {min_samples:UInt32} AND cost_per_call > 0
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
    agent_call_cost AS
    (
        SELECT c.1 AS agent, if(sum(c.10) > 0, sum(c.9) / sum(c.10), NULL) AS per_call
        FROM (SELECT arrayJoin(model_calls) AS c)
        GROUP BY agent
    ),
    -- Runs with an agent span, per agent: the median steps per run (quantileExact's: the count at
    -- 0-based position intDiv(runs, 2) in order) and, against it, the runaway runs (their count,
    -- the cost above what the median step count would have cost, the longest run as the example,
    -- the greatest run id among equally long ones, so the example does not depend on the order rows
    -- are read in), from a bin per agent and step count.
    run_agents AS
    (
        SELECT
            agent,
            arraySum(b -> b.2, bins) AS run_count,
            bins[arrayFirstIndex(c -> c > intDiv(run_count, 2), arrayCumSum(b -> b.2, bins))].1 AS median_steps,
            arrayFilter(b -> b.1 > {runaway_factor:Float64} * median_steps, bins) AS runaway,
            arraySum(b -> b.2, runaway) AS runaway_runs,
            arraySum(b -> b.3 * (1 - median_steps / b.1), runaway) AS runaway_cost,
            bins[-1].1 AS max_steps,
            bins[-1].4 AS longest_run
        FROM
        (
            SELECT agent, arraySort(groupArray((steps, runs, cost, longest))) AS bins
            FROM
            (
                SELECT agent, steps, count() AS runs, sum(ifNull(cost_usd, 0)) AS cost, max(run_id) AS longest
                FROM agent_runs_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
                WHERE Tenant = {tenant:String} AND agent_spans > 0
                GROUP BY agent, steps
            )
            GROUP BY agent
        )
        WHERE run_count >= {min_samples:UInt32}
    ),
    -- Per agent and tool: calls, failed calls, retried calls (failed calls a later call of the tool
    -- in the run follows: a run's failed calls less one if its latest call failed; of two calls at
    -- the same nanosecond the failed one counts as the later), runs with a retry.
    tool_calls AS
    (
        SELECT
            agent,
            tool,
            sum(run_calls) AS calls,
            sum(run_failed) AS failed,
            sum(run_retried) AS retried,
            countIf(run_retried > 0) AS retried_runs
        FROM
        (
            -- One 64-bit key per run, agent and tool: a hash table of integers, not of strings.
            SELECT
                any(AgentName) AS agent,
                any(StepName) AS tool,
                count() AS run_calls,
                countIf(StatusCode = 'Error') AS run_failed,
                toUInt64(run_failed - max((Timestamp, StatusCode = 'Error')).2) AS run_retried
            FROM steps
            WHERE StepKind = 'tool'
            GROUP BY cityHash64(RunKey, AgentName, StepName)
        )
        GROUP BY agent, tool
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
        concat(toString(runaway_runs), ' of ', toString(run_count), ' runs took more than ',
               toString({runaway_factor:Float64}), 'x the median of ', toString(median_steps),
               ' steps (up to ', toString(max_steps), '); e.g. run ', longest_run),
        runaway_runs,
        round(runaway_cost * monthly, 4)
    FROM run_agents
    WHERE runaway_runs > 0

    UNION ALL

    SELECT
        'retried_tools',
        t.agent,
        t.tool,
        '',
        concat('make ', t.tool, ' fail less or retry it inside the tool, not through the model'),
        concat(toString(t.retried), ' calls of ', t.tool, ' failed and were called again in ',
               toString(t.retried_runs), ' runs; ', toString(t.failed), ' of ', toString(t.calls), ' calls failed'),
        t.retried,
        round(t.retried * ifNull(a.per_call, 0) * monthly, 4)
    FROM tool_calls AS t
    LEFT JOIN agent_call_cost AS a ON a.agent = t.agent
    WHERE t.retried > 0
)
ORDER BY estimated_monthly_saving_usd DESC, kind, agent, step, model
