-- Step 2 of 3 of a re-price: writes the staged costs into agent_steps for the same range.
-- ALTER TABLE ... UPDATE (a mutation) rather than lightweight UPDATE, which needs table
-- settings agent_steps does not have, or an insert-select, which would duplicate rows in a
-- plain MergeTree. The mutation rewrites only the CostUSD and PriceId columns of the parts of
-- the range's partitions (agent_steps is partitioned by day); run it with mutations_sync = 2 so
-- it has finished when the command returns. Only staged steps change: a step the collector
-- stored after step 1 keeps the cost it was given.
-- {reprice_table} is the staging table's database-qualified name (a mutation runs without a
-- current database).
ALTER TABLE agent_steps
UPDATE
    CostUSD = joinGet({reprice_table:String}, 'CostUSD', Tenant, TraceId, SpanId),
    PriceId = joinGet({reprice_table:String}, 'PriceId', Tenant, TraceId, SpanId)
WHERE IsModelCall
  AND Timestamp >= {since:DateTime64(9)}
  AND Timestamp < {until:DateTime64(9)}
  AND ({tenant:String} = '' OR Tenant = {tenant:String})
  AND joinGet({reprice_table:String}, 'Staged', Tenant, TraceId, SpanId) = 1
