-- migrations/0114_agent_runs_resolved_unscored_calls.sql on every node, over the Distributed tables (as agent_runs_resolved itself).
CREATE OR REPLACE VIEW agent_runs_resolved ON CLUSTER '{cluster}' AS
WITH
    rolled AS
    (
        SELECT
            Tenant,
            RunKey,
            first_start < {since:DateTime64(9)}
                OR last_start >= {until:DateTime64(9)}
                OR Copies != length(Spans)
                OR ({service:String} != '' AND MinService != MaxService) AS partial,
            FirstStart AS first_start,
            LastStart AS last_start,
            TraceId AS trace_id,
            RunSpans AS run_spans,
            AgentSpans AS agent_spans,
            (Outermost.2, Outermost.3) AS outermost,
            ifNull(StatedAgent, '') AS stated_agent,
            RunSpanMs AS run_span_ms,
            RunSpanStart AS run_span_start,
            EndNs AS end_ns,
            ErrorSpans AS error_spans,
            Steps AS steps,
            FailedSteps AS failed_steps,
            InputTokens AS input_tokens,
            OutputTokens AS output_tokens,
            ModelCalls AS model_calls,
            PricedCalls AS priced_calls,
            CostUSD AS cost,
            if(QualityCount > 0, QualitySum / QualityCount, NULL) AS quality,
            if(ConfidenceCount > 0, ConfidenceSum / ConfidenceCount, NULL) AS confidence,
            InnermostError.2 AS innermost_error,
            StepGroups AS step_groups,
            UnscoredCalls AS unscored_calls
        FROM agent_runs FINAL
        WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND FirstStart < {until:DateTime64(9)}
          AND LastStart >= {since:DateTime64(9)}
          AND ({service:String} = '' OR (MinService <= {service:String} AND {service:String} <= MaxService))
    ),
    attributed AS
    (
        SELECT cityHash64(Tenant, TraceId, SpanId) AS StepKey, SpanId, RunKey, AgentName, IsRunSpan
        FROM step_attribution
        WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Timestamp >= {since:DateTime64(9)}
          AND Timestamp < {until:DateTime64(9)}
    ),
    unstamped AS
    (
        SELECT cityHash64(Tenant, RunKey) AS run
        FROM step_attribution
        PREWHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
            AND Timestamp >= {since:DateTime64(9)}
            AND Timestamp < {until:DateTime64(9)}
        SETTINGS final = 0
        UNION ALL
        SELECT cityHash64(Tenant, RunKey) AS run
        FROM agent_steps
        PREWHERE NOT IsStamped
            AND ({tenant:String} = '*' OR Tenant = {tenant:String})
            AND Timestamp >= {since:DateTime64(9)}
            AND Timestamp < {until:DateTime64(9)}
            AND ({service:String} = '' OR ServiceName = {service:String})
        SETTINGS final = 0
    ),
    (SELECT count() FROM unstamped) AS unstamped_runs,
    partial_runs AS
    (
        SELECT Tenant, RunKey
        FROM rolled
        WHERE partial
    ),
    raw AS
    (
        SELECT
            Tenant,
            RunKey,
            min(Timestamp) AS first_start,
            any(TraceId) AS trace_id,
            countIf(IsRunSpan) AS run_spans,
            countIf(StepKind = 'agent') AS agent_spans,
            argMaxIf((toString(AgentName), StatusCode = 'Error'), DurationMs, StepKind = 'agent') AS outermost,
            minIf(toString(AgentName), AgentName != '') AS stated_agent,
            max(if(IsRunSpan, DurationMs, NULL)) AS run_span_ms,
            max(if(IsRunSpan, Timestamp, NULL)) AS run_span_start,
            max(toUnixTimestamp64Nano(Timestamp) + toInt64(round(DurationMs * 1e6))) AS end_ns,
            countIf(StatusCode = 'Error') AS error_spans,
            countIf(NOT IsRunSpan) AS steps,
            countIf(StatusCode = 'Error' AND NOT IsRunSpan) AS failed_steps,
            sumIf(InputTokens + CachedInputTokens + CacheWriteTokens, IsModelCall) AS input_tokens,
            sumIf(OutputTokens + ReasoningTokens, IsModelCall) AS output_tokens,
            toInt64(countIf(IsModelCall)) AS model_calls,
            toInt64(countIf(IsModelCall AND CostUSD IS NOT NULL)) AS priced_calls,
            sumIf(ifNull(CostUSD, 0), IsModelCall) AS cost,
            avg(QualityScore) AS quality,
            avg(Confidence) AS confidence,
            argMaxIf(toString(ErrorType), Timestamp, StatusCode = 'Error') AS innermost_error,
            groupUniqArrayIf(cityHash64(toString(StepKind), StepName, toString(RequestModel)), NOT IsRunSpan) AS step_groups,
            sumMapIf(
                [cityHash64(toString(AgentName), StepName, toString(if(ResponseModel != '', ResponseModel, RequestModel)))], [toUInt64(1)],
                IsModelCall AND QualityScore IS NULL) AS unscored_calls
        FROM
        (
            SELECT
                s.Tenant AS Tenant, s.TraceId AS TraceId, s.SpanId AS SpanId, s.Timestamp AS Timestamp,
                if(resolved, a.RunKey, s.RunKey) AS RunKey,
                if(resolved, a.AgentName, s.AgentName) AS AgentName,
                if(resolved, a.IsRunSpan, s.IsRunSpan) AS IsRunSpan,
                NOT s.IsStamped AND a.SpanId = s.SpanId AS resolved,
                s.StepKind AS StepKind, s.StepName AS StepName, s.RequestModel AS RequestModel, s.ResponseModel AS ResponseModel,
                s.StatusCode AS StatusCode, s.ErrorType AS ErrorType,
                s.DurationMs AS DurationMs, s.IsModelCall AS IsModelCall, s.InputTokens AS InputTokens,
                s.CachedInputTokens AS CachedInputTokens, s.CacheWriteTokens AS CacheWriteTokens,
                s.OutputTokens AS OutputTokens, s.ReasoningTokens AS ReasoningTokens, s.CostUSD AS CostUSD,
                s.QualityScore AS QualityScore, s.Confidence AS Confidence
            FROM agent_steps AS s
            LEFT ANY JOIN attributed AS a ON cityHash64(s.Tenant, s.TraceId, s.SpanId) = a.StepKey
            PREWHERE ({tenant:String} = '*' OR s.Tenant = {tenant:String})
                AND s.Timestamp >= {since:DateTime64(9)}
                AND s.Timestamp < {until:DateTime64(9)}
                AND ({service:String} = '' OR s.ServiceName = {service:String})
                AND (NOT s.IsStamped
                     OR cityHash64(s.Tenant, s.RunKey) IN (SELECT run FROM unstamped)
                     OR (s.Tenant, s.RunKey) IN (SELECT Tenant, RunKey FROM partial_runs))
            WHERE (Tenant, RunKey) IN (SELECT Tenant, RunKey FROM partial_runs)
               OR cityHash64(Tenant, RunKey) IN (SELECT run FROM unstamped)
            LIMIT 1 BY Tenant, TraceId, SpanId
        )
        GROUP BY Tenant, RunKey
    )
SELECT
    Tenant,
    RunKey AS run_id,
    trace_id,
    run_spans > 0 OR RunKey = trace_id AS finished,
    if(agent_spans > 0, outermost.1, stated_agent) AS agent,
    agent_spans,
    if(run_spans > 0, assumeNotNull(run_span_start), first_start) AS started_at,
    toUnixTimestamp64Nano(first_start) AS start_ns,
    end_ns,
    if(run_spans > 0, assumeNotNull(run_span_ms), (end_ns - start_ns) / 1e6) AS duration_ms,
    if(agent_spans > 0, outermost.2 = 1, error_spans > 0) AS failed,
    steps,
    failed_steps,
    input_tokens,
    output_tokens,
    input_tokens + output_tokens AS tokens,
    if(priced_calls > 0, cost, NULL) AS cost_usd,
    model_calls - priced_calls AS unpriced_calls,
    quality,
    confidence,
    innermost_error,
    step_groups,
    unscored_calls,
    recomputed
FROM
(
    SELECT
        Tenant, RunKey, first_start, trace_id, run_spans, agent_spans, outermost, stated_agent,
        run_span_ms, run_span_start, end_ns, error_spans, steps, failed_steps, input_tokens,
        output_tokens, model_calls, priced_calls, cost, quality, confidence, innermost_error, step_groups,
        unscored_calls,
        false AS recomputed
    FROM rolled
    WHERE NOT partial AND (unstamped_runs = 0 OR cityHash64(Tenant, RunKey) NOT IN (SELECT run FROM unstamped))
    UNION ALL
    SELECT
        Tenant, RunKey, first_start, trace_id, run_spans, agent_spans, outermost, stated_agent,
        run_span_ms, run_span_start, end_ns, error_spans, steps, failed_steps, input_tokens,
        output_tokens, model_calls, priced_calls, cost, quality, confidence, innermost_error, step_groups,
        unscored_calls,
        true AS recomputed
    FROM raw
)
