-- Budgets of one tenant ('*' = every tenant), optionally only the one named {name} ('' = all).
-- FINAL keeps each (Tenant, Name)'s latest version and drops removed ones.
SELECT
    Tenant AS tenant,
    Name AS name,
    Period AS period,
    LimitUSD AS limit_usd,
    LimitTokens AS limit_tokens,
    ServiceName AS service,
    AgentName AS agent,
    Model AS model,
    Thresholds AS thresholds,
    Timezone AS timezone,
    Source AS source,
    CreatedAt AS created_at
FROM budgets FINAL
WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
  AND ({name:String} = '' OR Name = {name:String})
  AND NOT Deleted
ORDER BY Tenant, Name
