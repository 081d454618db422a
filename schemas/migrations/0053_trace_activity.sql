-- When each trace last received spans: one row per trace per insert block into span_links,
-- sorted by insert time so the attribution job reads what arrived since its watermark as a
-- range. Kept a week: the job needs only what arrived since its last run and its lateness bound.
CREATE TABLE IF NOT EXISTS trace_activity
(
    InsertedAt DateTime64(3) CODEC(Delta, ZSTD(1)),
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toDate(InsertedAt)
ORDER BY (InsertedAt, Tenant, TraceId)
TTL toDateTime(InsertedAt) + INTERVAL 7 DAY
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
