-- Which numbered migrations have been applied to this database; the runner creates it first.
CREATE TABLE IF NOT EXISTS schema_migrations
(
    Version UInt32,
    Name String,
    AppliedAt DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY Version
