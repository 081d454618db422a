-- agent_step_groups with the steps read wherever its rows cannot be trusted, as agent_costs_resolved
-- (0091) does for model calls: the rolled-up rows of the whole quarter hours in [since, until)
-- whose Calls match their distinct span hashes, and, grouped the same way from the steps (one copy
-- each), the steps our instrumentation did not stamp (their run span flag from step_attribution),
-- the steps of the partial quarter hours at the range's ends and of the groups holding a copy.
-- The first and last quarter hour holding a copy bound the scan for the groups holding one.
-- Parameters: tenant ('*' = every tenant), [since, until), service ('' = every service).
CREATE OR REPLACE VIEW agent_step_groups_resolved AS
WITH
    fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano({since:DateTime64(9)}) + 899999999999, 900000000000)
                            * 900000000000) AS first_whole,
    fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano({until:DateTime64(9)}), 900000000000)
                            * 900000000000) AS end_whole,
    dirty AS
    (
        SELECT Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan
        FROM agent_step_groups FINAL
        WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Quarter >= first_whole
          AND Quarter < end_whole
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND Calls != length(Spans)
    ),
    (SELECT (min(Quarter), max(Quarter)) FROM dirty) AS dirty_quarters,
    attributed AS
    (
        SELECT cityHash64(Tenant, TraceId, SpanId) AS StepKey, SpanId, IsRunSpan
        FROM step_attribution
        WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Timestamp >= {since:DateTime64(9)}
          AND Timestamp < {until:DateTime64(9)}
    ),
    steps AS
    (
        SELECT
            s.Tenant AS Tenant, s.TraceId AS TraceId, s.SpanId AS SpanId,
            fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano(s.Timestamp), 900000000000) * 900000000000) AS Quarter,
            s.ServiceName AS ServiceName, s.StepKind AS StepKind, s.StepName AS StepName,
            s.RequestModel AS RequestModel,
            if(a.SpanId = s.SpanId, a.IsRunSpan, s.IsRunSpan) AS IsRunSpan,
            s.StatusCode AS StatusCode, s.DurationMs AS duration
        FROM agent_steps AS s
        LEFT ANY JOIN attributed AS a ON cityHash64(s.Tenant, s.TraceId, s.SpanId) = a.StepKey
        PREWHERE NOT s.IsStamped
            AND ({tenant:String} = '*' OR s.Tenant = {tenant:String})
            AND s.Timestamp >= {since:DateTime64(9)}
            AND s.Timestamp < {until:DateTime64(9)}
            AND ({service:String} = '' OR s.ServiceName = {service:String})
        LIMIT 1 BY Tenant, TraceId, SpanId
        UNION ALL
        SELECT
            Tenant, TraceId, SpanId,
            fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano(Timestamp), 900000000000) * 900000000000) AS Quarter,
            ServiceName, StepKind, StepName, RequestModel, IsRunSpan, StatusCode, DurationMs AS duration
        FROM agent_steps
        PREWHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Timestamp >= {since:DateTime64(9)}
          AND Timestamp < {until:DateTime64(9)}
          AND (Timestamp < first_whole OR Timestamp >= end_whole)
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND IsStamped
        LIMIT 1 BY Tenant, TraceId, SpanId
        UNION ALL
        SELECT
            Tenant, TraceId, SpanId,
            fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano(Timestamp), 900000000000) * 900000000000) AS Quarter,
            ServiceName, StepKind, StepName, RequestModel, IsRunSpan, StatusCode, DurationMs AS duration
        FROM agent_steps
        PREWHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
          AND Timestamp >= first_whole
          AND Timestamp < end_whole
          AND ({service:String} = '' OR ServiceName = {service:String})
          AND Timestamp >= dirty_quarters.1
          AND Timestamp < dirty_quarters.2 + toIntervalMinute(15)
          AND IsStamped
          AND (Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan) IN dirty
        LIMIT 1 BY Tenant, TraceId, SpanId
    )
SELECT
    Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan, Calls, Failures,
    DurationMs, Durations, false AS recomputed
FROM agent_step_groups FINAL
WHERE ({tenant:String} = '*' OR Tenant = {tenant:String})
  AND Quarter >= first_whole
  AND Quarter < end_whole
  AND ({service:String} = '' OR ServiceName = {service:String})
  AND Calls = length(Spans)
UNION ALL
SELECT
    Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan,
    count() AS Calls,
    countIf(StatusCode = 'Error') AS Failures,
    sum(duration) AS DurationMs,
    groupArray(duration) AS Durations,
    true AS recomputed
FROM steps
GROUP BY Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan
