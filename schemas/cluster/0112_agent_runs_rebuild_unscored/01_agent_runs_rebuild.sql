-- migrations/0112_agent_runs_rebuild_unscored.sql through the Distributed tables.
INSERT INTO agent_runs
(
    Tenant, RunKey, TraceId, MinService, MaxService, FirstStart,
    LastStart, EndNs, Copies, Spans, RunSpans, AgentSpans,
    Outermost, StatedAgent, RunSpanMs, RunSpanStart, ErrorSpans, Steps,
    FailedSteps, InputTokens, OutputTokens, ModelCalls, PricedCalls, CostUSD,
    QualitySum, QualityCount, ConfidenceSum, ConfidenceCount, InnermostError, StepGroups,
    UnscoredCalls
)
SELECT
    Tenant,
    RunKey,
    any(s.TraceId) AS TraceId,
    min(ServiceName) AS MinService,
    max(ServiceName) AS MaxService,
    min(Timestamp) AS FirstStart,
    max(Timestamp) AS LastStart,
    max(toUnixTimestamp64Nano(Timestamp) + toInt64(round(DurationMs * 1e6))) AS EndNs,
    count() AS Copies,
    groupUniqArray(toUInt32(cityHash64(SpanId) % 4294967296)) AS Spans,
    countIf(IsRunSpan) AS RunSpans,
    countIf(StepKind = 'agent') AS AgentSpans,
    maxIf((DurationMs, toString(AgentName), toUInt8(StatusCode = 'Error')), StepKind = 'agent') AS Outermost,
    min(nullIf(toString(AgentName), '')) AS StatedAgent,
    max(if(IsRunSpan, DurationMs, NULL)) AS RunSpanMs,
    max(if(IsRunSpan, Timestamp, NULL)) AS RunSpanStart,
    countIf(StatusCode = 'Error') AS ErrorSpans,
    countIf(NOT IsRunSpan) AS Steps,
    countIf(StatusCode = 'Error' AND NOT IsRunSpan) AS FailedSteps,
    sumIf(s.InputTokens + CachedInputTokens + CacheWriteTokens, IsModelCall) AS InputTokens,
    sumIf(s.OutputTokens + ReasoningTokens, IsModelCall) AS OutputTokens,
    toInt64(countIf(IsModelCall)) AS ModelCalls,
    toInt64(countIf(IsModelCall AND s.CostUSD IS NOT NULL)) AS PricedCalls,
    sumIf(ifNull(s.CostUSD, 0), IsModelCall) AS CostUSD,
    sum(ifNull(QualityScore, 0)) AS QualitySum,
    count(QualityScore) AS QualityCount,
    sum(ifNull(Confidence, 0)) AS ConfidenceSum,
    count(Confidence) AS ConfidenceCount,
    maxIf((Timestamp, toString(ErrorType)), StatusCode = 'Error') AS InnermostError,
    groupUniqArrayIf(cityHash64(toString(StepKind), StepName, toString(RequestModel)), NOT IsRunSpan) AS StepGroups,
    sumMapIf(
        [cityHash64(toString(AgentName), StepName, toString(if(ResponseModel != '', ResponseModel, RequestModel)))], [toUInt64(1)],
        IsModelCall AND QualityScore IS NULL) AS UnscoredCalls
FROM agent_steps AS s
WHERE IsStamped
GROUP BY Tenant, RunKey
