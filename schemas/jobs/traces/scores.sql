-- Late scores (score_span, score_run) of one trace, for the debugging views: a step's scores by
-- its trace id, a run's by its run id (a run scored without its trace id is found that way too).
-- Oldest first; every score is listed (several per name and target may exist).
SELECT
    TraceId AS trace_id,
    SpanId AS span_id,
    RunId AS run_id,
    Name AS name,
    Value AS value,
    Confidence AS confidence,
    Source AS source,
    Comment AS comment,
    toUnixTimestamp64Nano(Timestamp) AS at_ns
FROM scores
WHERE Tenant = {tenant:String}
  AND (TraceId = {trace_id:String} OR (SpanId = '' AND RunId IN {run_ids:Array(String)}))
ORDER BY at_ns, name
LIMIT {max_scores:UInt32}
