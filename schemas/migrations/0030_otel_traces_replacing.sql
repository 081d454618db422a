-- otel_traces becomes a ReplacingMergeTree keyed down to the span, so a span delivered twice
-- (client retry, replay) is one row once merged, and exactly one row for readers using FINAL
-- (the collector's read paths set `final = 1`). Same columns: AS copies whatever exists now.
CREATE TABLE IF NOT EXISTS otel_traces_replacing AS otel_traces
ENGINE = ReplacingMergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, ServiceName, SpanName, toDateTime(Timestamp), TraceId, SpanId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000
