-- How far each incremental job has read its input (the attribution job: trace_activity rows up
-- to (InsertedAt, Tenant, TraceId)); the latest Version wins. Shared by every collector on the
-- store, so a restarted or added collector continues where the last run stopped.
CREATE TABLE IF NOT EXISTS job_watermarks
(
    Job LowCardinality(String),
    InsertedAt DateTime64(3),
    Tenant String,
    TraceId String,
    Version UInt64
)
ENGINE = ReplacingMergeTree(Version)
ORDER BY Job
