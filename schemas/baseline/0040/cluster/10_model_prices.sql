-- model_prices is small and read whole by collectors and re-prices: one table replicated to
-- every node of the cluster (one Keeper path for all shards), not sharded, no Distributed table.
CREATE TABLE IF NOT EXISTS model_prices ON CLUSTER '{cluster}'
(
    PriceId String COMMENT 'stored per priced step in agent_steps.PriceId',
    Source LowCardinality(String) COMMENT 'genai-prices or user',
    Providers Array(LowCardinality(String)) COMMENT 'provider names this row prices; empty = any provider',
    ModelRegex String COMMENT 're2 pattern matched against the lower-cased model name',
    ModelExcludeRegex String COMMENT 'models matching this re2 pattern are not priced by this row; empty = none',
    EffectiveFrom DateTime64(3) COMMENT 'first instant this price applies',
    Priority Int32 COMMENT 'user overrides 100, catalogue 0',
    Ordinal UInt32 COMMENT 'catalogue matching order (first match wins)',
    InputPerMTok Float64 COMMENT 'USD per million uncached input tokens',
    CachedInputPerMTok Nullable(Float64) COMMENT 'USD per million cache-read tokens; NULL = input price',
    CacheWritePerMTok Nullable(Float64) COMMENT 'USD per million cache-write tokens; NULL = input price',
    OutputPerMTok Float64 COMMENT 'USD per million output tokens',
    ReasoningPerMTok Nullable(Float64) COMMENT 'USD per million reasoning tokens; NULL = output price',
    TierStartTokens UInt64 COMMENT 'input tokens (all buckets) above which the tier prices apply to every token; 0 = no tier',
    InputPerMTokTier Nullable(Float64),
    CachedInputPerMTokTier Nullable(Float64),
    CacheWritePerMTokTier Nullable(Float64),
    OutputPerMTokTier Nullable(Float64),
    UpdatedAt DateTime64(3) DEFAULT now64(3) COMMENT 'version: the latest row per key wins'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', UpdatedAt)
ORDER BY (Source, PriceId, EffectiveFrom)
