-- Errors by class (tool_error, generation_error, validation_error, timeout_error). A failure
-- usually fails every span above it too; `errors` counts only where it started (a failed span
-- with no failed child), `propagated` the failed spans above it. Shares are of `errors`.
-- The failed steps are read from agent_failures (a copy of them, kept by a materialized view: in
-- agent_steps they sit in every granule), once, grouped by trace, so a span's failed children are
-- found among its trace's failed spans without reading them a second time. Run and agent are
-- resolved as agent_steps_resolved does: a step our instrumentation did not stamp takes them from
-- step_attribution, looked up for those failed steps only. WHERE, not PREWHERE: a tenant's reports
-- read through its database of views, which take no PREWHERE (the primary key and the partitions
-- still narrow the read to the range).
WITH
    failed_steps AS
    (
        SELECT Tenant, Timestamp, TraceId, SpanId, ParentSpanId, AgentName, StepName, ErrorType, ErrorMessage,
               RunKey, IsStamped
        FROM agent_failures
        WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Timestamp >= {since:DateTime64(9)}
          AND Timestamp < {until:DateTime64(9)}
          AND ({service:String} = '' OR ServiceName = {service:String})
    ),
    failed_by_trace AS
    (
        SELECT
            f.TraceId AS TraceId,
            groupArray(f.ParentSpanId) AS failed_parents,
            groupArray((
                f.SpanId, f.ErrorType, if(a.SpanId = f.SpanId, a.RunKey, f.RunKey),
                if(a.SpanId = f.SpanId, a.AgentName, f.AgentName), f.StepName, f.ErrorMessage, f.Timestamp)) AS failed
        FROM failed_steps AS f
        LEFT ANY JOIN
        (
            SELECT cityHash64(Tenant, TraceId, SpanId) AS StepKey, SpanId, RunKey, AgentName
            FROM step_attribution
            WHERE cityHash64(Tenant, TraceId, SpanId) IN (SELECT cityHash64(Tenant, TraceId, SpanId) FROM failed_steps WHERE NOT IsStamped)
        ) AS a ON cityHash64(f.Tenant, f.TraceId, f.SpanId) = a.StepKey
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
