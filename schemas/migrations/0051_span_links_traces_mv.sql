-- Parent link of every span stored in otel_traces, GenAI step or not.
CREATE MATERIALIZED VIEW IF NOT EXISTS span_links_traces_mv TO span_links
AS SELECT
    Tenant,
    TraceId,
    SpanId,
    Timestamp,
    ParentSpanId,
    toUInt8(0) AS IsStep,
    toUInt8(0) AS IsAgent,
    '' AS AgentName,
    '' AS StampedRunId
FROM otel_traces
