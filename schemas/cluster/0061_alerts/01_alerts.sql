-- alerts (migrations/0061_alerts.sql) on a cluster: one table replicated to every node, not sharded.
-- Exactly once still holds: the racing evaluators' fire rows carry the same deduplication token and
-- meet in one replicated table (its tokens live in Keeper), wherever each evaluator inserted; and
-- every partial row of an alert is in that one table for FINAL to merge.
CREATE TABLE IF NOT EXISTS alerts ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String) COMMENT 'tenant the alert is about; * = every tenant (operator budgets)',
    DedupKey String COMMENT 'kind/scope/period-or-episode: an alert fires once per key, ever',
    PeriodStart DateTime64(3) COMMENT 'start of the budget period or of the episode the key names',
    GroupKey SimpleAggregateFunction(any, Nullable(String))
        COMMENT 'the key without its episode: while one alert of a group is open, the group does not fire again',
    Kind SimpleAggregateFunction(any, Nullable(String)) COMMENT 'budget_threshold, projected_overrun, cost_spike, ...',
    Severity SimpleAggregateFunction(any, Nullable(String)) COMMENT 'warning or critical',
    Subject SimpleAggregateFunction(any, Nullable(String)) COMMENT 'what it is about: a budget, an agent, the tenant',
    Threshold SimpleAggregateFunction(any, Nullable(Float64)) COMMENT 'the limit the observed value crossed',
    Observed SimpleAggregateFunction(any, Nullable(Float64)) COMMENT 'value when it fired',
    Baseline SimpleAggregateFunction(any, Nullable(Float64)) COMMENT 'value it was compared with, if any',
    Message SimpleAggregateFunction(any, Nullable(String)),
    Labels SimpleAggregateFunction(maxMap, Map(String, String)) COMMENT 'scope of the alert: budget, agent, period, ...',
    FiredAt SimpleAggregateFunction(any, Nullable(DateTime64(3))) COMMENT 'evaluation time at which it fired',
    FiredBy SimpleAggregateFunction(any, Nullable(String)) COMMENT 'evaluator whose fire row was kept; it delivers',
    ResolvedAt SimpleAggregateFunction(max, Nullable(DateTime64(3))) COMMENT 'when the condition cleared; NULL = open',
    Delivery SimpleAggregateFunction(maxMap, Map(String, String))
        COMMENT 'channel -> "NNN <UTC time> <state>: <detail>" of its latest attempt NNN (000 = pending)'
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}')
PARTITION BY toYYYYMM(PeriodStart)
ORDER BY (Tenant, DedupKey)
SETTINGS replicated_deduplication_window = 10000
