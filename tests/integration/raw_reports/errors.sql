-- Errors by class (tool_error, generation_error, validation_error, timeout_error). A failure
-- usually fails every span above it too; `errors` counts only where it started (a failed span
-- with no failed child), `propagated` the failed spans above it. Shares are of `errors`.
-- The failed spans are read once and grouped by trace, so a span's failed children are found
-- among its trace's failed spans without reading them a second time.
WITH failed_by_trace AS
(
    SELECT
        TraceId,
        groupArray(ParentSpanId) AS failed_parents,
        groupArray((SpanId, ErrorType, RunKey, AgentName, StepName, ErrorMessage, Timestamp)) AS failed
    FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
    WHERE ({service:String} = '' OR ServiceName = {service:String})
      AND StatusCode = 'Error'
    GROUP BY TraceId
)
SELECT
    if(f.2 = '', 'unclassified', toString(f.2)) AS error_type,
    countIf(is_origin) AS errors,
    countIf(NOT is_origin) AS propagated,
    round(errors / nullIf(sum(errors) OVER (), 0), 4) AS share,
    uniqExactIf(f.3, is_origin) AS runs_affected,
    arraySort(groupUniqArrayIf(toString(f.4), is_origin)) AS agents,
    arraySort(groupUniqArrayIf(f.5, is_origin)) AS steps,
    argMaxIf(f.6, f.7, is_origin) AS last_message,
    minIf(f.7, is_origin) AS first_seen,
    maxIf(f.7, is_origin) AS last_seen
FROM
(
    SELECT f, NOT has(failed_parents, f.1) AS is_origin
    FROM failed_by_trace
    ARRAY JOIN failed AS f
    WHERE {agent:String} = '' OR f.4 = {agent:String}
)
GROUP BY error_type
ORDER BY errors DESC, error_type
