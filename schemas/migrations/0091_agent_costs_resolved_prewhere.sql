-- agent_costs_resolved (0088) with its reads of agent_steps filtered in PREWHERE, as 0089 does for
-- agent_steps_resolved (it says why: under final = 1 a WHERE is applied after every column is
-- read). Every filter moved is on agent_steps' own columns, the same in every copy of a span.
CREATE OR REPLACE VIEW agent_costs_resolved AS
WITH
    fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano({since:DateTime64(9)}) + 899999999999, 900000000000)
                            * 900000000000) AS first_whole,
    fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano({until:DateTime64(9)}), 900000000000)
                            * 900000000000) AS end_whole,
    dirty AS
    (
        SELECT Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant
        FROM agent_costs FINAL
        WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Quarter >= first_whole
          AND Quarter < end_whole
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND Calls != length(Spans)
    ),
    attributed AS
    (
        SELECT cityHash64(Tenant, TraceId, SpanId) AS StepKey, SpanId, AgentName
        FROM step_attribution
        WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Timestamp >= {since:DateTime64(9)}
          AND Timestamp < {until:DateTime64(9)}
    ),
    calls AS
    (
        SELECT
            s.Tenant AS Tenant, s.TraceId AS TraceId, s.SpanId AS SpanId, s.Timestamp AS Timestamp,
            fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano(s.Timestamp), 900000000000) * 900000000000) AS Quarter,
            s.ServiceName AS ServiceName,
            if(a.SpanId = s.SpanId, a.AgentName, s.AgentName) AS AgentName,
            s.StepKind AS StepKind, s.Provider AS Provider,
            if(s.ResponseModel != '', s.ResponseModel, s.RequestModel) AS Model,
            s.ExperimentId AS ExperimentId, s.Variant AS Variant,
            s.InputTokens AS input, s.CachedInputTokens AS cached_input, s.CacheWriteTokens AS cache_write,
            s.OutputTokens AS output, s.ReasoningTokens AS reasoning, s.CostUSD AS cost,
            s.ReportedCostUSD AS reported
        FROM agent_steps AS s
        LEFT ANY JOIN attributed AS a ON cityHash64(s.Tenant, s.TraceId, s.SpanId) = a.StepKey
        PREWHERE NOT s.IsStamped
            AND s.IsModelCall
            AND ({tenant:String} = '*' OR s.Tenant = {tenant:String})
            AND s.Timestamp >= {since:DateTime64(9)}
            AND s.Timestamp < {until:DateTime64(9)}
            AND ({service:String} = '' OR s.ServiceName = {service:String})
        LIMIT 1 BY Tenant, TraceId, SpanId
        UNION ALL
        SELECT
            Tenant, TraceId, SpanId, Timestamp,
            fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano(Timestamp), 900000000000) * 900000000000) AS Quarter,
            ServiceName, AgentName, StepKind, Provider,
            if(ResponseModel != '', ResponseModel, RequestModel) AS Model,
            ExperimentId, Variant, InputTokens AS input, CachedInputTokens AS cached_input,
            CacheWriteTokens AS cache_write, OutputTokens AS output, ReasoningTokens AS reasoning,
            CostUSD AS cost, ReportedCostUSD AS reported
        FROM agent_steps
        PREWHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Timestamp >= {since:DateTime64(9)}
          AND Timestamp < {until:DateTime64(9)}
          AND (Timestamp < first_whole OR Timestamp >= end_whole)
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND IsModelCall
          AND IsStamped
        LIMIT 1 BY Tenant, TraceId, SpanId
        UNION ALL
        SELECT
            Tenant, TraceId, SpanId, Timestamp,
            fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano(Timestamp), 900000000000) * 900000000000) AS Quarter,
            ServiceName, AgentName, StepKind, Provider,
            if(ResponseModel != '', ResponseModel, RequestModel) AS Model,
            ExperimentId, Variant, InputTokens AS input, CachedInputTokens AS cached_input,
            CacheWriteTokens AS cache_write, OutputTokens AS output, ReasoningTokens AS reasoning,
            CostUSD AS cost, ReportedCostUSD AS reported
        FROM agent_steps
        PREWHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Timestamp >= first_whole
          AND Timestamp < end_whole
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND IsModelCall
          AND IsStamped
          AND (Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant) IN dirty
        LIMIT 1 BY Tenant, TraceId, SpanId
    )
SELECT
    Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant,
    Calls, InputTokens, CachedInputTokens, CacheWriteTokens, OutputTokens, ReasoningTokens,
    InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens AS TotalTokens,
    CostUSD, UnpricedCalls, UnpricedTokens, ReportedCostSum, ReportedCalls, FirstCall,
    false AS recomputed
FROM agent_costs FINAL
WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
  AND Quarter >= first_whole
  AND Quarter < end_whole
  AND ({service:String} = '' OR ServiceName = {service:String})
  AND Calls = length(Spans)
UNION ALL
SELECT
    Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant,
    count() AS Calls,
    sum(input) AS InputTokens,
    sum(cached_input) AS CachedInputTokens,
    sum(cache_write) AS CacheWriteTokens,
    sum(output) AS OutputTokens,
    sum(reasoning) AS ReasoningTokens,
    InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens AS TotalTokens,
    sum(ifNull(cost, 0)) AS CostUSD,
    toInt64(countIf(cost IS NULL)) AS UnpricedCalls,
    toInt64(sumIf(input + cached_input + cache_write + output + reasoning, cost IS NULL)) AS UnpricedTokens,
    sum(ifNull(reported, 0)) AS ReportedCostSum,
    count(reported) AS ReportedCalls,
    min(Timestamp) AS FirstCall,
    true AS recomputed
FROM calls
GROUP BY Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant
