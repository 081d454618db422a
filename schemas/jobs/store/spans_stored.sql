-- How many spans a tenant has in otel_traces; the demo waits on it.
SELECT count() AS spans
FROM otel_traces
WHERE Tenant = {tenant:String}
