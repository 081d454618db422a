-- Price rows for `spanhouse prices list`, optionally those whose id contains {search}.
SELECT
    PriceId AS price_id,
    Source AS source,
    arrayStringConcat(Providers, ',') AS providers,
    ModelRegex AS model_regex,
    EffectiveFrom AS effective_from,
    InputPerMTok AS input_mtok,
    CachedInputPerMTok AS cached_input_mtok,
    CacheWritePerMTok AS cache_write_mtok,
    OutputPerMTok AS output_mtok,
    ReasoningPerMTok AS reasoning_mtok,
    TierStartTokens AS tier_start_tokens
FROM model_prices FINAL
WHERE positionCaseInsensitive(PriceId, {search:String}) > 0
ORDER BY Priority DESC, Ordinal, EffectiveFrom
LIMIT {limit:UInt32}
