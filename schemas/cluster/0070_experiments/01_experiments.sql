-- experiments (migrations/0070_experiments.sql) on a cluster: a few definition rows per tenant,
-- read whole by every evaluation, so one table replicated to every node, not sharded.
CREATE TABLE IF NOT EXISTS experiments ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String),
    Name String,
    Description String,
    Variants Array(String) COMMENT 'variant names, as recorded in agent_steps.Variant',
    Weights Array(Float64) COMMENT 'percent of units each variant should get, summing to 100',
    Control String COMMENT 'the variant every other one is compared with',
    Unit String COMMENT 'what is randomized and counted: run, user, session or attribute:<key>',
    Metrics Array(String) COMMENT 'every metric evaluated: success_rate, duration, total_tokens, cost, quality, score:<name>',
    PrimaryMetric String,
    GuardMetrics Array(String) COMMENT 'metrics that block a winner when significantly worse',
    Alpha Float64,
    MinSample UInt32 COMMENT 'units per variant before a winner may be declared',
    Sequential Bool COMMENT 'the primary metric is judged by an always-valid p-value',
    TargetEffect Nullable(Float64) COMMENT 'change of the primary metric the power line speaks of; NULL = default',
    Status LowCardinality(String) COMMENT 'draft, running or stopped',
    StartAt Nullable(DateTime64(3)) COMMENT 'units whose first run starts from here on count',
    EndAt Nullable(DateTime64(3)) COMMENT 'units whose first run starts before this count',
    CreatedAt DateTime64(3),
    UpdatedAt DateTime64(3) COMMENT 'version: the row with the latest UpdatedAt is the definition'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', UpdatedAt)
ORDER BY (Tenant, Name)
