-- What the staged re-price (step 1) found: the range's model calls staged, and how many have a
-- price. (A Join table with hashed keys is read through joinGet, not scanned.)
SELECT
    count() AS staged,
    countIf(joinGet({reprice_table:String}, 'CostUSD', Tenant, TraceId, SpanId) IS NOT NULL) AS priced
FROM agent_steps
WHERE IsModelCall
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
  AND ({tenant:String} = '' OR Tenant = {tenant:String})
  AND joinGet({reprice_table:String}, 'Staged', Tenant, TraceId, SpanId) = 1
