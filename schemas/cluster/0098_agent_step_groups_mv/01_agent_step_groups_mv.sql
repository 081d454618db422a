-- On each shard, fills the local agent_step_groups from inserts into the local agent_steps.
CREATE MATERIALIZED VIEW IF NOT EXISTS agent_step_groups_mv ON CLUSTER '{cluster}' TO agent_step_groups_local
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
FROM agent_steps_local AS s
WHERE IsStamped
GROUP BY Tenant, Quarter, ServiceName, StepKind, StepName, RequestModel, IsRunSpan
