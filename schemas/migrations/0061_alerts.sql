-- Alerts: one logical alert per (Tenant, DedupKey), stored as partial rows that merge.
-- The evaluator's fire row carries every descriptive column; later rows carry only what they
-- learnt (ResolvedAt, a delivery attempt) with NULL / empty elsewhere. The merge functions make
-- the writes commute, so concurrent writers (two collectors, an evaluator and a deliverer)
-- never overwrite each other: any() keeps the fire row's values (it skips NULLs), max() keeps
-- the resolution, maxMap() keeps each channel's latest attempt (values start with a zero-padded
-- attempt number). Readers use FINAL.
-- Exactly once: a fire row is inserted with insert_deduplication_token = hash(DedupKey), so when
-- two evaluators race, ClickHouse keeps the first block and silently drops the other; each then
-- reads FiredBy back and only the winner delivers. PeriodStart derives from the key, so both
-- copies land in the same partition, which block deduplication needs.
CREATE TABLE IF NOT EXISTS alerts
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
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(PeriodStart)
ORDER BY (Tenant, DedupKey)
SETTINGS non_replicated_deduplication_window = 10000
