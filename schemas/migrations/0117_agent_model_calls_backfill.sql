-- Model calls stored before agent_model_calls existed, as agent_model_calls_mv sums them; from then
-- on the view fills it. (Migrations run before the collector takes spans, so no call reaches both.)
INSERT INTO agent_model_calls
(
    Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model, Calls, Spans, OkCalls,
    QualitySum, Scored, CostUSD, Costed, ByPrice, FirstCall, LastCall
)
SELECT
    Tenant,
    fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano(Timestamp), 900000000000) * 900000000000) AS Quarter,
    ServiceName,
    AgentName,
    StepName,
    Provider,
    if(ResponseModel != '', ResponseModel, RequestModel) AS Model,
    count() AS Calls,
    groupUniqArray(toUInt32(cityHash64(SpanId) % 4294967296)) AS Spans,
    countIf(StatusCode != 'Error') AS OkCalls,
    sum(ifNull(s.QualityScore, 0)) AS QualitySum,
    count(s.QualityScore) AS Scored,
    sum(ifNull(s.CostUSD, 0)) AS CostUSD,
    toInt64(count(s.CostUSD)) AS Costed,
    sumMap(
        [toString(PriceId)], [toInt64(1)], [toInt64(s.InputTokens)], [toInt64(s.CachedInputTokens)],
        [toInt64(s.CacheWriteTokens)], [toInt64(s.OutputTokens)], [toInt64(s.ReasoningTokens)]) AS ByPrice,
    min(Timestamp) AS FirstCall,
    max(Timestamp) AS LastCall
FROM agent_steps AS s
WHERE IsStamped AND IsModelCall
GROUP BY Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model
