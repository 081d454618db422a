-- Every span of one trace, for the debugging views (traces/trace_of.sql and trace_of_span.sql
-- find the trace a run or span id names). Raw spans come from otel_traces (so non-GenAI spans show
-- too), typed step fields from agent_steps, and each step's agent and run as resolved from the
-- trace (step_attribution, over the span's own); a span stored twice is listed once.
SELECT
    t.TraceId AS trace_id,
    t.SpanId AS span_id,
    t.ParentSpanId AS parent_span_id,
    t.SpanName AS span_name,
    t.ServiceName AS service,
    toUnixTimestamp64Nano(t.Timestamp) AS start_ns,
    t.Duration AS duration_ns,
    t.StatusCode AS status,
    t.StatusMessage AS status_message,
    s.StepKind AS step_kind,
    s.StepName AS step,
    if(a.SpanId != '', a.AgentName, s.AgentName) AS agent,
    if(a.SpanId != '', a.RunKey, s.RunId) AS run_id,
    s.ResponseModel AS model,
    s.IsModelCall AS model_call,
    s.InputTokens + s.CachedInputTokens + s.CacheWriteTokens AS input_tokens,
    s.OutputTokens + s.ReasoningTokens AS output_tokens,
    s.CostUSD AS cost_usd,
    s.ErrorType AS error_type,
    s.ErrorMessage AS error_message,
    s.QualityScore AS quality,
    s.Confidence AS confidence
FROM otel_traces AS t
LEFT JOIN
(
    SELECT *
    FROM agent_steps
    WHERE Tenant = {tenant:String} AND TraceId = {trace_id:String}
    LIMIT 1 BY SpanId
) AS s ON t.TraceId = s.TraceId AND t.SpanId = s.SpanId
LEFT JOIN
(
    SELECT TraceId, SpanId, AgentName, RunKey
    FROM step_attribution
    WHERE Tenant = {tenant:String} AND TraceId = {trace_id:String}
) AS a ON t.TraceId = a.TraceId AND t.SpanId = a.SpanId
WHERE t.Tenant = {tenant:String} AND t.TraceId = {trace_id:String}
ORDER BY start_ns, span_id
LIMIT 1 BY span_id
LIMIT {max_spans:UInt32}
