-- Fills agent_step_groups from every insert into agent_steps: the stamped steps of the block
-- (0097 says why only those).
CREATE MATERIALIZED VIEW IF NOT EXISTS agent_step_groups_mv TO agent_step_groups
AS SELECT
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
