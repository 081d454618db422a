-- Fills agent_model_calls from every insert into agent_steps: the stamped model calls of the block
-- (0085 says why only those).
CREATE MATERIALIZED VIEW IF NOT EXISTS agent_model_calls_mv TO agent_model_calls
AS SELECT
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
