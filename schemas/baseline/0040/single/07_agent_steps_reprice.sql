-- Staging Join table of `spanhouse prices reprice`. Migration 0021.
CREATE TABLE IF NOT EXISTS agent_steps_reprice
(
    Tenant String,
    TraceId String,
    SpanId String,
    CostUSD Nullable(Float64),
    PriceId String,
    Staged UInt8 COMMENT '1 for every staged step (joinGet gives 0 for steps not staged)'
)
ENGINE = Join(ANY, LEFT, Tenant, TraceId, SpanId)
