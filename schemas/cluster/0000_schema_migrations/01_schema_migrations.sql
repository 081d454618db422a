-- Which numbered migrations have been applied; the runner creates it first. One table replicated to
-- every node of the cluster (one Keeper path for all shards), so any node tells the schema's version.
CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER '{cluster}'
(
    Version UInt32,
    Name String,
    AppliedAt DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}')
ORDER BY Version
