-- The failed steps of agent_steps (StatusCode = 'Error'), with the columns the errors report reads.
-- About 2% of the steps on the realistic workload, spread over every granule of agent_steps, so
-- reading them there reads every granule of the id columns: 577 ms at 10M steps, 2% of that here
-- (docs/performance.md). Filled by agent_failures_mv from every insert into agent_steps (the
-- collector's, a bulk INSERT ... SELECT, an import alike); keyed down to the span, so FINAL drops
-- a copy as in agent_steps, and a replayed WAL batch is dropped as there (this table's
-- deduplication window). Its retention follows agent_steps' (retention.py sets both, and copies
-- agent_steps' TTL here when the collector opens a store that has one).
CREATE TABLE IF NOT EXISTS agent_failures
(
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    AgentName LowCardinality(String) CODEC(ZSTD(1)),
    StepName String CODEC(ZSTD(1)),
    ErrorType LowCardinality(String) CODEC(ZSTD(1)),
    ErrorMessage String CODEC(ZSTD(1)),
    RunKey String CODEC(ZSTD(1)),
    IsStamped Bool
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, Timestamp, TraceId, SpanId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000
