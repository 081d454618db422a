-- Keeps agent_costs right through a re-price (see runs_reprice.sql, its twin for agent_runs):
-- adds, per group and quarter hour, {sign} times the current cost, unpriced calls and unpriced
-- tokens of the staged stamped model calls. Run with sign -1 before the mutation and +1 after it
-- (also after a failed one). The row counts no call (Calls 0, no span hashes, no tokens, no
-- reported cost); its FirstCall is a real call's. Insert with insert_deduplicate = 0.
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
    toUInt64(0),
    CAST([], 'Array(UInt32)'),
    toUInt64(0),
    toUInt64(0),
    toUInt64(0),
    toUInt64(0),
    toUInt64(0),
    {sign:Int8} * sum(ifNull(CostUSD, 0)),
    {sign:Int8} * toInt64(countIf(CostUSD IS NULL)),
    {sign:Int8} * toInt64(sumIf(InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens, CostUSD IS NULL)),
    0.,
    toUInt64(0),
    min(Timestamp)
FROM agent_steps
WHERE IsModelCall
  AND IsStamped
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
  AND ({tenant:String} = '' OR Tenant = {tenant:String})
  AND joinGet({reprice_table:String}, 'Staged', Tenant, TraceId, SpanId) = 1
GROUP BY Tenant, Quarter, ServiceName, AgentName, StepKind, Provider, Model, ExperimentId, Variant
