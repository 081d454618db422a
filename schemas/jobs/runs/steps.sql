-- Per-step facts of one trace for the web UI's run detail, beyond the debugging view's: all five
-- token buckets, our cost and the cost the source reported, provider, models, finish reason,
-- experiment and variant, and whether content (prompts, completions, tool arguments) was
-- captured. The trace is named by its trace id, as GET /v1/trace returns it.
SELECT
    SpanId AS span_id,
    StepKind AS step_kind,
    Provider AS provider,
    RequestModel AS request_model,
    ResponseModel AS response_model,
    IsModelCall AS model_call,
    InputTokens AS input_tokens,
    CachedInputTokens AS cached_input_tokens,
    CacheWriteTokens AS cache_write_tokens,
    OutputTokens AS output_tokens,
    ReasoningTokens AS reasoning_tokens,
    CostUSD AS cost_usd,
    ReportedCostUSD AS reported_cost_usd,
    FinishReason AS finish_reason,
    ExperimentId AS experiment,
    Variant AS variant,
    SourceConvention AS convention,
    RunId AS run_id
FROM agent_steps
WHERE Tenant = {tenant:String} AND TraceId = {trace_id:String}
ORDER BY Timestamp, SpanId
LIMIT 1 BY SpanId
LIMIT {max_spans:UInt32}
