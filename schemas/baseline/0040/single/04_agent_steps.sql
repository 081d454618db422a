-- One typed row per agent step span, one row per span once merged (ReplacingMergeTree; readers use
-- FINAL), with the run key columns last. Migrations 0004, 0036-0039 and 0040.
CREATE TABLE IF NOT EXISTS agent_steps
(
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    RunId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    AgentName LowCardinality(String) CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    StepName String CODEC(ZSTD(1)),
    Operation LowCardinality(String) CODEC(ZSTD(1)),
    StepKind LowCardinality(String) CODEC(ZSTD(1)),
    IsModelCall Bool COMMENT 'usage on this row is counted; wrapper spans that repeat child usage are false',
    Provider LowCardinality(String) CODEC(ZSTD(1)),
    RequestModel LowCardinality(String) CODEC(ZSTD(1)),
    ResponseModel LowCardinality(String) CODEC(ZSTD(1)),
    InputTokens UInt64 COMMENT 'input tokens read neither from nor into a cache',
    CachedInputTokens UInt64 COMMENT 'input tokens read from the prompt cache',
    CacheWriteTokens UInt64 COMMENT 'input tokens written into the prompt cache',
    OutputTokens UInt64 COMMENT 'output tokens, reasoning excluded',
    ReasoningTokens UInt64 COMMENT 'reasoning output tokens',
    TotalTokens UInt64 ALIAS InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens,
    CostUSD Nullable(Float64) COMMENT 'our price for this row; NULL when the model has no known price',
    PriceId LowCardinality(String) COMMENT 'which price produced CostUSD',
    ReportedCostUSD Nullable(Float64) COMMENT 'cost the source itself reported, kept apart from ours',
    DurationMs Float64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    ErrorType LowCardinality(String) CODEC(ZSTD(1)),
    ErrorMessage String CODEC(ZSTD(1)),
    QualityScore Nullable(Float64),
    Confidence Nullable(Float64),
    ExperimentId LowCardinality(String) CODEC(ZSTD(1)),
    Variant LowCardinality(String) CODEC(ZSTD(1)),
    SessionId String CODEC(ZSTD(1)),
    UserId String CODEC(ZSTD(1)),
    FinishReason LowCardinality(String) CODEC(ZSTD(1)),
    SourceConvention LowCardinality(String) CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    RunKey String MATERIALIZED
        if(RunId = TraceId OR (RunId = SpanId AND ParentSpanId = '' AND SourceConvention != 'spanhouse'),
           TraceId, RunId)
        COMMENT 'run this row belongs to, whatever convention produced it',
    IsRunSpan Bool MATERIALIZED StepKind = 'agent' AND SpanId = RunId
        COMMENT 'the outermost agent span of a run, which ends when the run ends',
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_run_id RunId TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, AgentName, StepKind, Timestamp, TraceId, SpanId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000
