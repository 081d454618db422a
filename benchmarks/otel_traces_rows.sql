-- The otel_traces rows of the spans benchmarks/agent_steps_rows.sql generated (tenant {tenant}):
-- ids, parents, names and times, the columns the attribution views read.
INSERT INTO otel_traces (Tenant, Timestamp, TraceId, SpanId, ParentSpanId, SpanName, ServiceName, Duration)
SELECT Tenant, Timestamp, TraceId, SpanId, ParentSpanId, SpanName, ServiceName, toUInt64(DurationMs * 1e6)
FROM agent_steps
WHERE Tenant = {tenant:String}
