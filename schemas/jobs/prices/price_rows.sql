-- Every current price row (the collector's price book): the latest version of each key.
SELECT
    PriceId, Source, Providers, ModelRegex, ModelExcludeRegex, EffectiveFrom, Priority, Ordinal,
    InputPerMTok, CachedInputPerMTok, CacheWritePerMTok, OutputPerMTok, ReasoningPerMTok,
    TierStartTokens, InputPerMTokTier, CachedInputPerMTokTier, CacheWritePerMTokTier, OutputPerMTokTier,
    UpdatedAt
FROM model_prices FINAL
ORDER BY Priority DESC, Ordinal, EffectiveFrom
