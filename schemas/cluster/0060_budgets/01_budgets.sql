-- budgets (migrations/0060_budgets.sql) on a cluster: a few rows, read whole by every evaluator, so one
-- table replicated to every node (one Keeper path for all shards), not sharded, no Distributed table.
CREATE TABLE IF NOT EXISTS budgets ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', UpdatedAt, Deleted)
ORDER BY (Tenant, Name)
