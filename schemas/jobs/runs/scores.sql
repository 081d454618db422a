-- Scores given to the spans and the run of one trace (user feedback, evaluators), latest first,
-- for the web UI's run detail. A step score names its span; a run score names the run id.
SELECT
    Timestamp AS at,
    SpanId AS span_id,
    RunId AS run_id,
    Name AS name,
    Value AS value,
    Confidence AS confidence,
    Source AS source,
    Comment AS comment
FROM scores
WHERE Tenant = {tenant:String}
  AND (TraceId = {trace_id:String} OR (RunId != '' AND RunId IN {run_ids:Array(String)}))
ORDER BY Timestamp DESC, ScoreId
LIMIT {max_scores:UInt32}
