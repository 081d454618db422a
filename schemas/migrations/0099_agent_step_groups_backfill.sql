-- Steps stored before agent_step_groups existed, as agent_step_groups_mv groups them; from then on
-- the view fills it. (Migrations run before the collector takes spans, so no step reaches both.)
INSERT INTO agent_step_groups
    (Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan, Calls, Spans, Failures, DurationMs, Durations)
SELECT
    Tenant,
    fromUnixTimestamp64Nano(intDiv(toUnixTimestamp64Nano(Timestamp), 900000000000) * 900000000000) AS Quarter,
    ServiceName,
    StepKind,
    StepName,
    RequestModel,
    IsRunSpan,
    count() AS Calls,
    groupUniqArray(toUInt32(cityHash64(SpanId) % 4294967296)) AS Spans,
    countIf(StatusCode = 'Error') AS Failures,
    sum(s.DurationMs) AS DurationMs,
    groupArray(s.DurationMs) AS Durations
FROM agent_steps AS s
WHERE IsStamped
GROUP BY Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan
