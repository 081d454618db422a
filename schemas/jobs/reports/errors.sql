-- Errors by class (tool_error, generation_error, validation_error, timeout_error). A failure
-- usually fails every span above it too; `errors` counts only where it started (a failed span
-- with no failed child), `propagated` the failed spans above it. Shares are of `errors`.
WITH failed AS
(
    SELECT *
    FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
    WHERE StatusCode = 'Error'
)
SELECT
    if(ErrorType = '', 'unclassified', ErrorType) AS error_type,
    countIf(is_origin) AS errors,
    countIf(NOT is_origin) AS propagated,
    round(errors / nullIf(sum(errors) OVER (), 0), 4) AS share,
    uniqExactIf(RunKey, is_origin) AS runs_affected,
    arraySort(groupUniqArrayIf(AgentName, is_origin)) AS agents,
    arraySort(groupUniqArrayIf(StepName, is_origin)) AS steps,
    argMaxIf(ErrorMessage, Timestamp, is_origin) AS last_message,
    minIf(Timestamp, is_origin) AS first_seen,
    maxIf(Timestamp, is_origin) AS last_seen
FROM
(
    SELECT *, (TraceId, SpanId) NOT IN (SELECT TraceId, ParentSpanId FROM failed) AS is_origin
    FROM failed
    WHERE {agent:String} = '' OR AgentName = {agent:String}
)
GROUP BY error_type
ORDER BY errors DESC, error_type
