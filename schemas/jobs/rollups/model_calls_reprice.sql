-- Keeps agent_model_calls right through a re-price (see runs_reprice.sql, its twin for agent_runs):
-- adds, per group and quarter hour, {sign} times the current cost and costed-call count of the
-- staged stamped model calls, and their calls and tokens per PriceId (a re-price may move a call
-- to another PriceId). Run with sign -1 before the mutation and +1 after it (also after a failed
-- one). The row counts no call (Calls 0, no span hashes, no status or quality); its FirstCall and
-- LastCall are real calls'. Insert with insert_deduplicate = 0.
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
    toUInt64(0),
    CAST([], 'Array(UInt32)'),
    toUInt64(0),
    0.,
    toUInt64(0),
    {sign:Int8} * sum(ifNull(CostUSD, 0)),
    {sign:Int8} * toInt64(count(CostUSD)),
    sumMap(
        [toString(PriceId)], [toInt64({sign:Int8})], [{sign:Int8} * toInt64(InputTokens)],
        [{sign:Int8} * toInt64(CachedInputTokens)], [{sign:Int8} * toInt64(CacheWriteTokens)],
        [{sign:Int8} * toInt64(OutputTokens)], [{sign:Int8} * toInt64(ReasoningTokens)]),
    min(Timestamp),
    max(Timestamp)
FROM agent_steps
WHERE IsModelCall
  AND IsStamped
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
  AND ({tenant:String} = '' OR Tenant = {tenant:String})
  AND joinGet({reprice_table:String}, 'Staged', Tenant, TraceId, SpanId) = 1
GROUP BY Tenant, Quarter, ServiceName, AgentName, StepName, Provider, Model
