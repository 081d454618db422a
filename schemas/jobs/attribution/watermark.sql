-- Where pass {job} of the attribution job stopped reading trace_activity (no row: at the start).
SELECT toUnixTimestamp64Milli(InsertedAt) AS at_ms, Tenant AS tenant, TraceId AS trace_id
FROM job_watermarks FINAL
WHERE Job = {job:String}
