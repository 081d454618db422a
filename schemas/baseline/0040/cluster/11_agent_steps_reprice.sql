-- The re-price staging Join table, on each node (Join tables are never replicated).
CREATE TABLE IF NOT EXISTS agent_steps_reprice ON CLUSTER '{cluster}'
(
    Tenant String,
    TraceId String,
    SpanId String,
    CostUSD Nullable(Float64),
    PriceId String,
    Staged UInt8 COMMENT '1 for every staged step (joinGet gives 0 for steps not staged)'
)
ENGINE = Join(ANY, LEFT, Tenant, TraceId, SpanId)
