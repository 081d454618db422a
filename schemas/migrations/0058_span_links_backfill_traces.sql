-- Spans stored before span_links existed: their parent links (from then on the views fill it).
-- The cascade into trace_activity queues every such trace for the attribution job, which works
-- through them in bounded batches.
INSERT INTO span_links (Tenant, TraceId, SpanId, Timestamp, ParentSpanId, IsStep, IsAgent, AgentName, StampedRunId)
SELECT Tenant, TraceId, SpanId, Timestamp, ParentSpanId, 0, 0, '', ''
FROM otel_traces
