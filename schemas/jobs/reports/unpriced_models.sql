-- Model calls that have no known price (CostUSD is NULL): which provider/model, how many calls
-- and tokens, first and last seen. Add a price (`spanhouse prices set`) and re-price the range.
SELECT
    Provider AS provider,
    if(ResponseModel != '', ResponseModel, RequestModel) AS model,
    count() AS calls,
    sum(TotalTokens) AS tokens,
    min(Timestamp) AS first_seen,
    max(Timestamp) AS last_seen,
    groupUniqArray(3)(SourceConvention) AS conventions
FROM agent_steps
WHERE Tenant = {tenant:String}
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
  AND ({service:String} = '' OR ServiceName = {service:String})
  AND IsModelCall
  AND CostUSD IS NULL
GROUP BY provider, model
ORDER BY calls DESC, provider, model
