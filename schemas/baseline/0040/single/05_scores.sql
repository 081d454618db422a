-- Scores given to a run or a step, at the time or afterwards. Migration 0010.
CREATE TABLE IF NOT EXISTS scores
(
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)) COMMENT 'when the score was given',
    ScoreId String CODEC(ZSTD(1)) COMMENT 'SpanId of the spanhouse.score span that carried it',
    TraceId String CODEC(ZSTD(1)) COMMENT 'trace of the scored step or run; empty when only RunId is known',
    SpanId String CODEC(ZSTD(1)) COMMENT 'scored step; empty for a score of a whole run',
    RunId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Name LowCardinality(String) CODEC(ZSTD(1)) COMMENT 'quality, helpfulness, thumbs, ...',
    Value Float64,
    Confidence Nullable(Float64),
    Source LowCardinality(String) CODEC(ZSTD(1)) COMMENT 'who scored: user, evaluator, heuristic, ...',
    Comment String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_run_id RunId TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, Name, Timestamp)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000
