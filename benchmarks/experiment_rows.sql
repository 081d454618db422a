-- {runs} synthetic runs of experiment 'bench' for benchmarks/experiments.py, three agent_steps rows
-- each (the outermost agent span and two model calls), every row stamped with the experiment and
-- the variant (control or candidate, by a hash of the run), a run every 50 ms from 2026-10-01,
-- 10% failed runs, a quality score per run (the candidate's 0.02 higher).
INSERT INTO agent_steps
(
    Tenant, Timestamp, TraceId, SpanId, ParentSpanId, RunId, ServiceName, AgentName, SpanName, StepName,
    Operation, StepKind, IsModelCall, Provider, RequestModel, ResponseModel, InputTokens, OutputTokens,
    CostUSD, DurationMs, StatusCode, QualityScore, ExperimentId, Variant, SourceConvention
)
SELECT
    '' AS Tenant,
    toDateTime64('2026-10-01 00:00:00', 9) + toIntervalMillisecond(run * 50 + pos * 5) AS Timestamp,
    lower(hex(cityHash64(run, 't'))) || lower(hex(cityHash64(run, 'u'))) AS TraceId,
    lower(hex(cityHash64(run, pos))) AS SpanId,
    if(pos = 0, '', lower(hex(cityHash64(run, 0)))) AS ParentSpanId,
    lower(hex(cityHash64(run, 0))) AS RunId,
    'svc' AS ServiceName,
    'support' AS AgentName,
    if(pos = 0, 'invoke_agent', 'chat') AS SpanName,
    if(pos = 0, 'support', 'chat') AS StepName,
    SpanName AS Operation,
    if(pos = 0, 'agent', 'llm') AS StepKind,
    pos > 0 AS IsModelCall,
    if(IsModelCall, 'openai', '') AS Provider,
    if(IsModelCall, 'gpt-4o-mini', '') AS RequestModel,
    RequestModel AS ResponseModel,
    if(IsModelCall, 200 + cityHash64(run, pos, 'i') % 1500, 0) AS InputTokens,
    if(IsModelCall, 20 + cityHash64(run, pos, 'o') % 400, 0) AS OutputTokens,
    if(IsModelCall, (InputTokens + 4 * OutputTokens) * 1.5e-7, NULL) AS CostUSD,
    if(pos = 0, 1000 + cityHash64(run, 'd') % 25000, 100 + cityHash64(run, pos, 'd') % 40) AS DurationMs,
    if(pos = 0 AND cityHash64(run, 'e') % 10 = 0, 'Error', 'Ok') AS StatusCode,
    if(pos = 0, 0.5 + (cityHash64(run, 'q') % 400) / 1000 + if(Variant = 'candidate', 0.02, 0), NULL) AS QualityScore,
    'bench' AS ExperimentId,
    if(cityHash64(run, 'v') % 2 = 0, 'control', 'candidate') AS Variant,
    'spanhouse' AS SourceConvention
FROM (SELECT intDiv(number, 3) AS run, number % 3 AS pos FROM numbers({runs:UInt64} * 3))
