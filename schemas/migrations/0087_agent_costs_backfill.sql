-- Model calls stored before agent_costs existed, as agent_costs_mv sums them; from then on the
-- view fills it. (Migrations run before the collector takes spans, so no call reaches both.)
INSERT INTO agent_costs
(
    Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant,
    Calls, Spans, InputTokens, CachedInputTokens, CacheWriteTokens, OutputTokens, ReasoningTokens,
    CostUSD, UnpricedCalls, UnpricedTokens, ReportedCostSum, ReportedCalls, FirstCall
)
SELECT
    Tenant,
    fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano(Timestamp), 900000000000) * 900000000000) AS Quarter,
    ServiceName,
    AgentName,
    StepKind,
    Provider,
    if(ResponseModel != '', ResponseModel, RequestModel) AS Model,
    ExperimentId,
    Variant,
    count() AS Calls,
    groupUniqArray(toUInt32(cityHash64(SpanId) % 4294967296)) AS Spans,
    sum(s.InputTokens) AS InputTokens,
    sum(s.CachedInputTokens) AS CachedInputTokens,
    sum(s.CacheWriteTokens) AS CacheWriteTokens,
    sum(s.OutputTokens) AS OutputTokens,
    sum(s.ReasoningTokens) AS ReasoningTokens,
    sum(ifNull(s.CostUSD, 0)) AS CostUSD,
    toInt64(countIf(s.CostUSD IS NULL)) AS UnpricedCalls,
    toInt64(sumIf(s.InputTokens + s.CachedInputTokens + s.CacheWriteTokens + s.OutputTokens + s.ReasoningTokens, s.CostUSD IS NULL)) AS UnpricedTokens,
    sum(ifNull(ReportedCostUSD, 0)) AS ReportedCostSum,
    count(ReportedCostUSD) AS ReportedCalls,
    min(Timestamp) AS FirstCall
FROM agent_steps AS s
WHERE IsStamped AND IsModelCall
GROUP BY Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant
