-- Budget definitions: a spending (USD) or token limit per calendar period over a scope of the
-- model calls in agent_steps. Empty scope columns match everything; Tenant '*' (operator budgets
-- only) counts every tenant. A budget is one row per (Tenant, Name): editing or removing one
-- inserts a newer version (UpdatedAt), Deleted = 1 removes it; readers use FINAL.
CREATE TABLE IF NOT EXISTS budgets
(
    Tenant LowCardinality(String) COMMENT 'tenant whose spend counts and who manages the budget; * = every tenant',
    Name String COMMENT 'unique per tenant',
    ServiceName String COMMENT 'only this service; empty = any',
    AgentName String COMMENT 'only this agent; empty = any',
    Model String COMMENT 'only this model (response model, else request model); empty = any',
    Period LowCardinality(String) COMMENT 'hourly, daily, weekly (ISO, from Monday) or monthly',
    Timezone LowCardinality(String) COMMENT 'IANA zone the period is calendar-aligned in',
    LimitUSD Nullable(Float64) COMMENT 'limit on CostUSD; NULL when the limit is in tokens',
    LimitTokens Nullable(UInt64) COMMENT 'limit on total tokens; NULL when the limit is in USD',
    Thresholds Array(Float64) COMMENT 'percent of the limit at which an alert fires, ascending',
    Source LowCardinality(String) COMMENT 'cli, api or config (config budgets follow the collector YAML)',
    CreatedAt DateTime64(3),
    UpdatedAt DateTime64(3) COMMENT 'version: the latest row per (Tenant, Name) wins',
    Deleted UInt8 COMMENT '1 = removed'
)
ENGINE = ReplacingMergeTree(UpdatedAt, Deleted)
ORDER BY (Tenant, Name)
