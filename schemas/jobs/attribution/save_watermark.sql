-- Moves pass {job} of the attribution job to the trace_activity row it has resolved up to.
INSERT INTO job_watermarks (Job, InsertedAt, Tenant, TraceId, Version)
SELECT
    {job:String},
    fromUnixTimestamp64Milli({at_ms:Int64}),
    {tenant:String},
    {trace_id:String},
    toUnixTimestamp64Nano(now64(9))
