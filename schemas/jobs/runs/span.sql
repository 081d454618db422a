-- One span's raw record for the web UI's run detail: its attributes (captured content among
-- them when capture was on), resource attributes, events and status, as stored in otel_traces.
SELECT
    TraceId AS trace_id,
    SpanId AS span_id,
    SpanName AS name,
    SpanKind AS kind,
    ServiceName AS service,
    ScopeName AS scope,
    StatusCode AS status,
    StatusMessage AS status_message,
    SpanAttributes AS attributes,
    ResourceAttributes AS resource,
    arrayMap((t, n, a) -> tuple(t, n, a), Events.Timestamp, Events.Name, Events.Attributes) AS events
FROM otel_traces
WHERE Tenant = {tenant:String} AND TraceId = {trace_id:String} AND SpanId = {span_id:String}
LIMIT 1
