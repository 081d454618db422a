-- job_watermarks on every node, one replica set across the cluster: a job run on any collector
-- continues where the last one stopped.
CREATE TABLE IF NOT EXISTS job_watermarks ON CLUSTER '{cluster}'
(
    Job LowCardinality(String),
    InsertedAt DateTime64(3),
    Tenant String,
    TraceId String,
    Version UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', Version)
ORDER BY Job
