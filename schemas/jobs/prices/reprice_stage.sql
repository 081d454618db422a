-- Step 1 of 3 of a re-price after a price change (`spanhouse prices reprice`): computes the
-- cost of every model call of [since, until) with the current model_prices into the
-- agent_steps_reprice Join table. The matching rule is the collector's (prices/book.py): the
-- row whose ModelRegex (and not ModelExcludeRegex) matches the lower-cased model and whose
-- EffectiveFrom is the latest not after the step, preferring rows for the step's provider
-- (or any provider), then higher Priority, then lower Ordinal. Regexes run once per distinct
-- (provider, model), not per step. Every model call of the range is staged, those with no
-- matching price with a NULL cost (unknown, reported by reports/unpriced_models), never 0.
-- The staging table is shared: run one re-price at a time per database.
INSERT INTO agent_steps_reprice (Tenant, TraceId, SpanId, CostUSD, PriceId, Staged)
WITH
    steps AS
    (
        SELECT
            Tenant, TraceId, SpanId, Timestamp, Provider,
            lower(if(ResponseModel != '', ResponseModel, RequestModel)) AS Model,
            InputTokens, CachedInputTokens, CacheWriteTokens, OutputTokens, ReasoningTokens
        FROM agent_steps
        WHERE IsModelCall
          AND Timestamp >= {since:DateTime64(9)}
          AND Timestamp < {until:DateTime64(9)}
          AND ({tenant:String} = '' OR Tenant = {tenant:String})
    ),
    models AS (SELECT DISTINCT Provider, Model FROM steps),
    candidates AS
    (
        SELECT
            m.Provider AS Provider,
            m.Model AS Model,
            p.PriceId AS PriceId,
            p.EffectiveFrom AS EffectiveFrom,
            (empty(p.Providers) OR has(p.Providers, m.Provider)) AS ProviderMatch,
            p.Priority AS Priority,
            p.Ordinal AS Ordinal,
            p.InputPerMTok, p.CachedInputPerMTok, p.CacheWritePerMTok, p.OutputPerMTok, p.ReasoningPerMTok,
            p.TierStartTokens, p.InputPerMTokTier, p.CachedInputPerMTokTier, p.CacheWritePerMTokTier,
            p.OutputPerMTokTier
        FROM models AS m
        CROSS JOIN (SELECT * FROM model_prices FINAL) AS p
        WHERE match(m.Model, p.ModelRegex)
          AND (p.ModelExcludeRegex = '' OR NOT match(m.Model, p.ModelExcludeRegex))
    ),
    priced AS
    (
        SELECT
            s.Tenant AS Tenant, s.TraceId AS TraceId, s.SpanId AS SpanId,
            c.PriceId AS PriceId, c.ProviderMatch AS ProviderMatch, c.Priority AS Priority,
            c.Ordinal AS Ordinal, c.EffectiveFrom AS EffectiveFrom,
            (s.InputTokens + s.CachedInputTokens + s.CacheWriteTokens) > c.TierStartTokens
                AND c.TierStartTokens > 0 AS Tiered,
            if(Tiered AND c.InputPerMTokTier IS NOT NULL, c.InputPerMTokTier, c.InputPerMTok) AS InputRate,
            if(Tiered AND c.CachedInputPerMTokTier IS NOT NULL, c.CachedInputPerMTokTier, c.CachedInputPerMTok) AS ReadRate,
            if(Tiered AND c.CacheWritePerMTokTier IS NOT NULL, c.CacheWritePerMTokTier, c.CacheWritePerMTok) AS WriteRate,
            if(Tiered AND c.OutputPerMTokTier IS NOT NULL, c.OutputPerMTokTier, c.OutputPerMTok) AS OutputRate,
            (
                s.InputTokens * InputRate
                + s.CachedInputTokens * ifNull(ReadRate, InputRate)
                + s.CacheWriteTokens * ifNull(WriteRate, InputRate)
                + s.OutputTokens * OutputRate
                + s.ReasoningTokens * ifNull(c.ReasoningPerMTok, OutputRate)
            ) * 1e-6 AS Cost
        FROM steps AS s
        INNER JOIN candidates AS c ON s.Provider = c.Provider AND s.Model = c.Model
        WHERE c.EffectiveFrom <= s.Timestamp
    ),
    best AS
    (
        SELECT
            Tenant, TraceId, SpanId,
            toNullable(argMin(Cost, (NOT ProviderMatch, -Priority, Ordinal, -toUnixTimestamp64Milli(EffectiveFrom)))) AS CostUSD,
            argMin(PriceId, (NOT ProviderMatch, -Priority, Ordinal, -toUnixTimestamp64Milli(EffectiveFrom))) AS PriceId
        FROM priced
        GROUP BY Tenant, TraceId, SpanId
    )
SELECT s.Tenant, s.TraceId, s.SpanId, b.CostUSD, b.PriceId, 1
FROM steps AS s
LEFT JOIN best AS b ON s.Tenant = b.Tenant AND s.TraceId = b.TraceId AND s.SpanId = b.SpanId
