-- How many of the given spans otel_traces holds (any copy), to check an insert that was retried:
-- ClickHouse may have recorded a failed attempt's deduplication token and dropped the retry.
SELECT uniqExact(TraceId, SpanId) AS present
FROM otel_traces
WHERE TraceId IN {trace_ids:Array(String)}
  AND SpanId IN {span_ids:Array(String)}
