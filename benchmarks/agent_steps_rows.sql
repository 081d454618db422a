-- {rows} synthetic agent_steps rows for benchmarks/reports.py: runs of six rows (one outermost
-- agent span and five steps: llm, llm, tool, llm, llm), eight agents in two services, a run every
-- 1.5 s from 2026-10-01 (10M rows span about 29 days), 2% failed steps, a quality score per run.
-- Model calls are priced as the collector prices them (PriceId and CostUSD from genai-prices'
-- gpt-4o and gpt-4o-mini rows, which benchmarks/reports.py loads into model_prices), but every
-- fiftieth run's, whose self-hosted model has no price (PriceId '', CostUSD NULL).
-- {stamped} = 1: every row carries its run id and agent name, as our instrumentation stamps them;
-- 0: as other libraries write them, only the agent span names its agent (convention otel_genai).
INSERT INTO agent_steps
(
    Tenant, Timestamp, TraceId, SpanId, ParentSpanId, RunId, ServiceName, AgentName, SpanName, StepName,
    Operation, StepKind, IsModelCall, Provider, RequestModel, ResponseModel, InputTokens, CachedInputTokens,
    CacheWriteTokens, OutputTokens, ReasoningTokens, CostUSD, PriceId, DurationMs, StatusCode, ErrorType,
    ErrorMessage, QualityScore, Confidence, SourceConvention
)
SELECT
    '' AS Tenant,
    toDateTime64('2026-10-01 00:00:00', 9) + toIntervalMillisecond(run * 1500 + pos * 150) AS Timestamp,
    lower(hex(cityHash64(run, 't'))) || lower(hex(cityHash64(run, 'u'))) AS TraceId,
    lower(hex(cityHash64(run, pos))) AS SpanId,
    if(pos = 0, '', lower(hex(cityHash64(run, 0)))) AS ParentSpanId,
    if({stamped:UInt8} OR pos = 0, lower(hex(cityHash64(run, 0))), TraceId) AS RunId,
    ['svc-a', 'svc-b'][run % 2 + 1] AS ServiceName,
    if({stamped:UInt8} OR pos = 0,
       ['planner', 'researcher', 'writer', 'triage', 'coder', 'reviewer', 'router', 'summarizer'][run % 8 + 1],
       '') AS AgentName,
    multiIf(pos = 0, 'invoke_agent', pos = 3, 'execute_tool', 'chat') AS SpanName,
    multiIf(pos = 0, AgentName, pos = 3, ['search', 'lookup', 'fetch'][run % 3 + 1], concat('call ', toString(pos))) AS StepName,
    SpanName AS Operation,
    multiIf(pos = 0, 'agent', pos = 3, 'tool', 'llm') AS StepKind,
    StepKind = 'llm' AS IsModelCall,
    multiIf(NOT IsModelCall, '', run % 50 = 7, 'vllm', 'openai') AS Provider,
    multiIf(NOT IsModelCall, '', run % 50 = 7, 'house-llm-8b', ['gpt-4o-mini', 'gpt-4o'][(run + pos) % 2 + 1]) AS RequestModel,
    RequestModel AS ResponseModel,
    if(IsModelCall, 200 + cityHash64(run, pos, 'i') % 1500, 0) AS InputTokens,
    if(IsModelCall, cityHash64(run, pos, 'c') % 200, 0) AS CachedInputTokens,
    0 AS CacheWriteTokens,
    if(IsModelCall, 20 + cityHash64(run, pos, 'o') % 400, 0) AS OutputTokens,
    0 AS ReasoningTokens,
    multiIf(
        RequestModel = 'gpt-4o', (InputTokens * 2.5 + CachedInputTokens * 1.25 + OutputTokens * 10) / 1e6,
        RequestModel = 'gpt-4o-mini', (InputTokens * 0.15 + CachedInputTokens * 0.075 + OutputTokens * 0.6) / 1e6,
        NULL) AS CostUSD,
    if(RequestModel LIKE 'gpt-%', concat('genai-prices:openai/', RequestModel), '') AS PriceId,
    if(pos = 0, 1000 + cityHash64(run, 'd') % 25000, 100 + cityHash64(run, pos, 'd') % 40) AS DurationMs,
    if(cityHash64(run, pos, 'e') % 50 = 0, 'Error', 'Ok') AS StatusCode,
    if(StatusCode = 'Error', multiIf(pos = 3, 'tool_error', pos = 0, 'generation_error', 'timeout_error'), '') AS ErrorType,
    if(StatusCode = 'Error', 'synthetic failure', '') AS ErrorMessage,
    if(pos = 0, 0.5 + (cityHash64(run, 'q') % 500) / 1000, NULL) AS QualityScore,
    if(pos = 0, 0.4 + (cityHash64(run, 'k') % 600) / 1000, NULL) AS Confidence,
    if({stamped:UInt8}, 'spanhouse', 'otel_genai') AS SourceConvention
FROM (SELECT intDiv(number, 6) AS run, number % 6 AS pos FROM numbers({rows:UInt64}))
