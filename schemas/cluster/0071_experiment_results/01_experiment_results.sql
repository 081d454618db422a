-- experiment_results (migrations/0071_experiment_results.sql) on a cluster: a few rows per evaluation
-- (metrics x variants), read by experiment and time, so one table replicated to every node, not sharded.
CREATE TABLE IF NOT EXISTS experiment_results ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String),
    Experiment String,
    EvaluatedAt DateTime64(3),
    Metric LowCardinality(String),
    Variant String,
    Role LowCardinality(String) COMMENT 'primary, guard or secondary',
    IsControl Bool,
    Test LowCardinality(String) COMMENT 'welch_t, z_test or mann_whitney_u',
    Units UInt64 COMMENT 'units assigned to the variant',
    N UInt64 COMMENT 'units with a value of this metric',
    Mean Nullable(Float64),
    Sd Nullable(Float64),
    CiLow Nullable(Float64),
    CiHigh Nullable(Float64),
    Diff Nullable(Float64) COMMENT 'mean minus the control mean',
    DiffCiLow Nullable(Float64),
    DiffCiHigh Nullable(Float64),
    RelDiff Nullable(Float64) COMMENT 'Diff over the control mean',
    RelDiffCiLow Nullable(Float64),
    RelDiffCiHigh Nullable(Float64),
    PValue Nullable(Float64) COMMENT 'the p-value decisions use, of kind PValueKind',
    PValueKind LowCardinality(String) COMMENT 'always_valid or fixed_horizon',
    PFixedHorizon Nullable(Float64),
    PAdjusted Nullable(Float64) COMMENT 'Holm-adjusted PValue across variants x metrics',
    Significant Bool,
    Better Nullable(Bool) COMMENT 'the difference goes the metric''s good way',
    Mde Nullable(Float64) COMMENT 'smallest difference detectable now at the power used',
    UnitsNeeded Nullable(UInt64) COMMENT 'units per variant to detect the target effect',
    TargetEffect Nullable(Float64),
    SrmPValue Nullable(Float64),
    SrmFlagged Bool,
    Verdict LowCardinality(String) COMMENT 'winner or no_winner_yet',
    Winner String,
    Reasons Array(String)
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}')
PARTITION BY toYYYYMM(EvaluatedAt)
ORDER BY (Tenant, Experiment, EvaluatedAt, Metric, Variant)
