-- The last of the next {batch} trace_activity rows after the watermark and up to {until_ms}:
-- the attribution job resolves the traces of the rows in (watermark, this row], then moves the
-- watermark here. No row: nothing new. Rows sort by (InsertedAt, Tenant, TraceId), the table's
-- key, so this reads a range; ties on InsertedAt are split on the trace, so a batch stays bounded.
SELECT toUnixTimestamp64Milli(InsertedAt) AS at_ms, Tenant AS tenant, TraceId AS trace_id
FROM
(
    SELECT InsertedAt, Tenant, TraceId
    FROM trace_activity
    WHERE (InsertedAt, Tenant, TraceId) > (fromUnixTimestamp64Milli({from_ms:Int64}), {from_tenant:String}, {from_trace:String})
      AND InsertedAt <= fromUnixTimestamp64Milli({until_ms:Int64})
    ORDER BY InsertedAt, Tenant, TraceId
    LIMIT {batch:UInt32}
)
ORDER BY InsertedAt DESC, Tenant DESC, TraceId DESC
LIMIT 1
