-- Smaller agent_steps: codecs for the columns that had none (ClickHouse then compresses with LZ4).
-- RunKey, materialized by 0040 without a codec, repeats RunId and stored twice its bytes; token
-- counts are small integers (T64 drops their empty high bytes before ZSTD); the nullable costs and
-- scores and the durations take ZSTD like the rest (Gorilla first for the durations). On the
-- realistic workload (benchmarks/storage.py) this takes a merged agent_steps from about 62 to
-- about 54 bytes per row. Only the codecs change: types, defaults and comments stay, and parts
-- written before take the new codecs when they are next merged.
ALTER TABLE agent_steps
    MODIFY COLUMN RunKey CODEC(ZSTD(1)),
    MODIFY COLUMN InputTokens CODEC(T64, ZSTD(1)),
    MODIFY COLUMN CachedInputTokens CODEC(T64, ZSTD(1)),
    MODIFY COLUMN CacheWriteTokens CODEC(T64, ZSTD(1)),
    MODIFY COLUMN OutputTokens CODEC(T64, ZSTD(1)),
    MODIFY COLUMN ReasoningTokens CODEC(T64, ZSTD(1)),
    MODIFY COLUMN CostUSD CODEC(ZSTD(1)),
    MODIFY COLUMN ReportedCostUSD CODEC(ZSTD(1)),
    MODIFY COLUMN QualityScore CODEC(ZSTD(1)),
    MODIFY COLUMN Confidence CODEC(ZSTD(1)),
    MODIFY COLUMN DurationMs CODEC(Gorilla, ZSTD(1))
