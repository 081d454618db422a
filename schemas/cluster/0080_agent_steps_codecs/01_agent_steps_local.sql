-- migrations/0080_agent_steps_codecs.sql on a cluster: codecs belong to the storage tables
-- (agent_steps_local); the Distributed agent_steps stores nothing and is left as it is.
ALTER TABLE agent_steps_local ON CLUSTER '{cluster}'
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
