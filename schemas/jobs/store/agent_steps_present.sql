-- How many of the given spans agent_steps holds (any copy), to check an insert that was retried:
-- ClickHouse may have recorded a failed attempt's deduplication token and dropped the retry.
SELECT uniqExact(TraceId, SpanId) AS present
FROM agent_steps
WHERE TraceId IN {trace_ids:Array(String)}
  AND SpanId IN {span_ids:Array(String)}
