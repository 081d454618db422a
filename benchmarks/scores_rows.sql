-- Scores for the runs of benchmarks/agent_steps_rows.sql (same {rows}), given a minute after the
-- run started: a step score ('helpfulness', by a user) on the tool step of every twentieth run,
-- and a run score ('quality', by an evaluator) for every other fifth run.
INSERT INTO scores (Tenant, Timestamp, ScoreId, TraceId, SpanId, RunId, ServiceName, Name, Value, Source)
SELECT
    '' AS Tenant,
    toDateTime64('2026-10-01 00:00:00', 9) + toIntervalMillisecond(run * 1500 + 60000) AS Timestamp,
    lower(hex(cityHash64(run, 's', step))) AS ScoreId,
    if(step, lower(hex(cityHash64(run, 't'))) || lower(hex(cityHash64(run, 'u'))), '') AS TraceId,
    if(step, lower(hex(cityHash64(run, 3))), '') AS SpanId,
    lower(hex(cityHash64(run, 0))) AS RunId,
    ['svc-a', 'svc-b'][run % 2 + 1] AS ServiceName,
    if(step, 'helpfulness', 'quality') AS Name,
    (cityHash64(run, 'v', step) % 1000) / 1000 AS Value,
    if(step, 'user', 'evaluator') AS Source
FROM
(
    SELECT intDiv(number, 6) AS run, toUInt8(number % 120 = 0) AS step
    FROM numbers({rows:UInt64})
    WHERE number % 30 = 0 OR number % 120 = 0
)
