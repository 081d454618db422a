-- Steps that deserve a look, newest first, with the warnings they raise:
-- low_confidence (Confidence below {low_confidence}), high_token_usage (the step's model-call
-- tokens above {high_tokens}), slow_execution (duration above {slow_ms} ms) and quality_concern
-- (QualityScore below {low_quality}).
-- The start of the {limit}-th newest flagged step is found first from the few columns the checks
-- read; the steps are then read from there on only (agent_steps is partitioned by day), so the
-- ids and names of the older flagged steps are never read.
WITH
    (
        SELECT min(Timestamp)
        FROM
        (
            SELECT Timestamp
            FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
            WHERE ({service:String} = '' OR ServiceName = {service:String})
              AND ({agent:String} = '' OR AgentName = {agent:String})
              AND (ifNull(Confidence < {low_confidence:Float64}, 0)
                   OR (IsModelCall AND TotalTokens > {high_tokens:Float64})
                   OR DurationMs > {slow_ms:Float64}
                   OR ifNull(QualityScore < {low_quality:Float64}, 0))
            ORDER BY Timestamp DESC
            LIMIT {limit:UInt32}
        )
    ) AS oldest_shown
SELECT
    Timestamp AS at,
    TraceId AS trace_id,
    RunKey AS run_id,
    SpanId AS span_id,
    AgentName AS agent,
    StepKind AS step_kind,
    StepName AS step,
    arrayFilter(w -> w != '', [
        if(ifNull(Confidence < {low_confidence:Float64}, 0), 'low_confidence', ''),
        if(IsModelCall AND TotalTokens > {high_tokens:Float64}, 'high_token_usage', ''),
        if(DurationMs > {slow_ms:Float64}, 'slow_execution', ''),
        if(ifNull(QualityScore < {low_quality:Float64}, 0), 'quality_concern', '')
    ]) AS warnings,
    round(DurationMs, 3) AS duration_ms,
    if(IsModelCall, TotalTokens, 0) AS tokens,
    Confidence AS confidence,
    QualityScore AS quality
FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
WHERE ({service:String} = '' OR ServiceName = {service:String})
  AND ({agent:String} = '' OR AgentName = {agent:String})
  AND Timestamp >= oldest_shown
  AND notEmpty(warnings)
ORDER BY at DESC, span_id
LIMIT {limit:UInt32}
