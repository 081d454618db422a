-- Runs for the web UI's run list, newest first, one page at a time: agent, start, duration,
-- status (ok, error, or active while the run's outermost agent span has not arrived), steps,
-- tokens, cost, models, experiment and variant, quality and the innermost error class.
-- Runs are grouped by RunKey (as resolved: agent_steps_resolved) and judged as in reports/overview.sql and reports/executions.sql.
-- Filters: agent, status, model (any model call of the run), experiment and variant, and the
-- least cost and duration; '' or 0 means no filter (a run whose models have no known price
-- passes only while min_cost_usd is 0). `total` is the number of runs that pass the filters
-- before LIMIT/OFFSET, so the UI can say how many pages there are.
WITH per_run AS
(
    SELECT
        RunKey AS run_id,
        any(TraceId) AS trace_id,
        countIf(IsRunSpan) > 0 OR RunKey = any(TraceId) AS finished,
        countIf(StepKind = 'agent') AS agent_spans,
        argMaxIf((AgentName, StatusCode = 'Error'), DurationMs, StepKind = 'agent') AS outermost,
        if(agent_spans > 0, outermost.1, minIf(AgentName, AgentName != '')) AS agent,
        min(Timestamp) AS started_at,
        (max(toUnixTimestamp64Nano(Timestamp) + toInt64(round(DurationMs * 1e6)))
            - toUnixTimestamp64Nano(min(Timestamp))) / 1e6 AS run_ms,
        if(agent_spans > 0, outermost.2, countIf(StatusCode = 'Error') > 0) AS failed,
        countIf(NOT IsRunSpan) AS run_steps,
        countIf(StatusCode = 'Error' AND NOT IsRunSpan) AS run_failed_steps,
        sumIf(InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens,
              IsModelCall) AS run_tokens,
        sumIf(CostUSD, IsModelCall) AS run_cost_usd,
        arraySort(groupUniqArrayIf(if(ResponseModel != '', ResponseModel, RequestModel),
                                   IsModelCall AND (ResponseModel != '' OR RequestModel != ''))) AS run_models,
        anyIf(ExperimentId, ExperimentId != '') AS run_experiment,
        anyIf(Variant, Variant != '') AS run_variant,
        avg(QualityScore) AS run_quality,
        argMaxIf(ErrorType, Timestamp, StatusCode = 'Error') AS innermost_error
    FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
    GROUP BY RunKey
)
SELECT
    run_id,
    trace_id,
    agent,
    started_at,
    round(run_ms, 3) AS duration_ms,
    multiIf(NOT finished, 'active', failed, 'error', 'ok') AS status,
    run_steps AS steps,
    run_failed_steps AS failed_steps,
    run_tokens AS tokens,
    round(run_cost_usd, 6) AS cost_usd,
    run_models AS models,
    run_experiment AS experiment,
    run_variant AS variant,
    round(run_quality, 4) AS quality,
    innermost_error AS error_type,
    count() OVER () AS total
FROM per_run
WHERE ({agent:String} = '' OR agent = {agent:String})
  AND ({status:String} = '' OR status = {status:String})
  AND ({model:String} = '' OR has(run_models, {model:String}))
  AND ({experiment:String} = '' OR run_experiment = {experiment:String})
  AND ({variant:String} = '' OR run_variant = {variant:String})
  AND ({min_cost_usd:Float64} = 0 OR run_cost_usd >= {min_cost_usd:Float64})
  AND run_ms >= {min_duration_ms:Float64}
ORDER BY started_at DESC, run_id
LIMIT {limit:UInt32} OFFSET {offset:UInt32}
