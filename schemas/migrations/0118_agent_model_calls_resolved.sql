-- agent_model_calls with the calls read wherever its rows cannot be trusted, as
-- agent_step_groups_resolved (0100) does for steps: the rolled-up rows of the whole quarter hours
-- in [since, until) whose Calls match their distinct span hashes, and, summed the same way from the
-- steps (one copy each), the model calls our instrumentation did not stamp (their agent from
-- step_attribution), the calls of the partial quarter hours at the range's ends and of the groups
-- holding a copy. The first and last quarter hour holding a copy bound the scan for those groups.
-- Parameters: tenant ('*' = every tenant), [since, until), service ('' = every service).
CREATE OR REPLACE VIEW agent_model_calls_resolved AS
WITH
    fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano({since:DateTime64(9)}) + 899999999999, 900000000000)
                            * 900000000000) AS first_whole,
    fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano({until:DateTime64(9)}), 900000000000)
                            * 900000000000) AS end_whole,
    dirty AS
    (
        SELECT Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model
        FROM agent_model_calls FINAL
        WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Quarter >= first_whole
          AND Quarter < end_whole
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND Calls != length(Spans)
    ),
    (SELECT (min(Quarter), max(Quarter)) FROM dirty) AS dirty_quarters,
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
            s.StepName AS StepName, s.Provider AS Provider,
            if(s.ResponseModel != '', s.ResponseModel, s.RequestModel) AS Model,
            s.StatusCode AS status, s.QualityScore AS quality, s.CostUSD AS cost, toString(s.PriceId) AS price_id,
            s.InputTokens AS input, s.CachedInputTokens AS cached_input, s.CacheWriteTokens AS cache_write,
            s.OutputTokens AS output, s.ReasoningTokens AS reasoning
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
            ServiceName, AgentName, StepName, Provider,
            if(ResponseModel != '', ResponseModel, RequestModel) AS Model,
            StatusCode AS status, QualityScore AS quality, CostUSD AS cost, toString(PriceId) AS price_id,
            InputTokens AS input, CachedInputTokens AS cached_input, CacheWriteTokens AS cache_write,
            OutputTokens AS output, ReasoningTokens AS reasoning
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
            ServiceName, AgentName, StepName, Provider,
            if(ResponseModel != '', ResponseModel, RequestModel) AS Model,
            StatusCode AS status, QualityScore AS quality, CostUSD AS cost, toString(PriceId) AS price_id,
            InputTokens AS input, CachedInputTokens AS cached_input, CacheWriteTokens AS cache_write,
            OutputTokens AS output, ReasoningTokens AS reasoning
        FROM agent_steps
        PREWHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Timestamp >= first_whole
          AND Timestamp < end_whole
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND Timestamp >= dirty_quarters.1
          AND Timestamp < dirty_quarters.2 + toIntervalMinute(15)
          AND IsModelCall
          AND IsStamped
          AND (Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model) IN dirty
        LIMIT 1 BY Tenant, TraceId, SpanId
    )
SELECT
    Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model, Calls, OkCalls, QualitySum,
    Scored, CostUSD, Costed, ByPrice, FirstCall, LastCall, false AS recomputed
FROM agent_model_calls FINAL
WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
  AND Quarter >= first_whole
  AND Quarter < end_whole
  AND ({service:String} = '' OR ServiceName = {service:String})
  AND Calls = length(Spans)
UNION ALL
SELECT
    Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model,
    count() AS Calls,
    countIf(status != 'Error') AS OkCalls,
    sum(ifNull(quality, 0)) AS QualitySum,
    count(quality) AS Scored,
    sum(ifNull(cost, 0)) AS CostUSD,
    toInt64(count(cost)) AS Costed,
    sumMap([price_id], [toInt64(1)], [toInt64(input)], [toInt64(cached_input)], [toInt64(cache_write)],
           [toInt64(output)], [toInt64(reasoning)]) AS ByPrice,
    min(Timestamp) AS FirstCall,
    max(Timestamp) AS LastCall,
    true AS recomputed
FROM calls
GROUP BY Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model
