-- Keeps agent_runs right through a re-price, whose ALTER UPDATE of agent_steps no materialized
-- view sees: adds, per run, {sign} times the current cost and priced-call count of the staged
-- stamped model calls (the steps reprice_apply.sql may change). Run with sign -1 before the
-- mutation and +1 after it, also after a failed one: agent_runs then loses the old figures and
-- gains whatever agent_steps holds, however much of the mutation ran. Every other column of the
-- row is neutral (zero counts and sums, the least tuples, NULLs; the start, end, services and trace id are those of
-- the run's own steps). Insert with insert_deduplicate = 0: two re-prices may write equal rows.
INSERT INTO agent_runs
(
    Tenant, RunKey, TraceId, MinService, MaxService, FirstStart,
    LastStart, EndNs, Copies, Spans, RunSpans, AgentSpans,
    Outermost, StatedAgent, RunSpanMs, RunSpanStart, ErrorSpans, Steps,
    FailedSteps, InputTokens, OutputTokens, ModelCalls, PricedCalls, CostUSD,
    QualitySum, QualityCount, ConfidenceSum, ConfidenceCount, InnermostError
)
SELECT
    Tenant,
    RunKey,
    any(TraceId),
    min(ServiceName),
    max(ServiceName),
    min(Timestamp),
    max(Timestamp),
    max(toUnixTimestamp64Nano(Timestamp) + toInt64(round(DurationMs * 1e6))),
    toUInt64(0),
    CAST([], 'Array(UInt32)'),
    toUInt64(0),
    toUInt64(0),
    (0., '', toUInt8(0)),
    CAST(NULL, 'Nullable(String)'),
    CAST(NULL, 'Nullable(Float64)'),
    CAST(NULL, 'Nullable(DateTime64(9))'),
    toUInt64(0),
    toUInt64(0),
    toUInt64(0),
    toUInt64(0),
    toUInt64(0),
    toInt64(0),
    {sign:Int8} * toInt64(countIf(CostUSD IS NOT NULL)),
    {sign:Int8} * sum(ifNull(CostUSD, 0)),
    0.,
    toUInt64(0),
    0.,
    toUInt64(0),
    (toDateTime64(0, 9), '')
FROM agent_steps
WHERE IsModelCall
  AND IsStamped
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
  AND ({tenant:String} = '' OR Tenant = {tenant:String})
  AND joinGet({reprice_table:String}, 'Staged', Tenant, TraceId, SpanId) = 1
GROUP BY Tenant, RunKey
