-- Attributes the steps of the traces that received spans in one batch of trace_activity rows,
-- (from, to], to their run and agent, and writes them to step_attribution (its header states the
-- contract). Each trace is read once from span_links as a map SpanId -> (parent, is agent, name,
-- stamped run id); each step not stamped by our instrumentation walks up its parents, at most
-- {max_depth} links, keeping the nearest and the outermost agent span it passes, and stops at the
-- root, at a stamped span (whose run it joins) or at a parent not stored (yet).
--   {finalize} = 0, the resolve pass over what just arrived: every row is provisional, even when
--     its walk is complete (the exporter writes otel_traces and agent_steps in two inserts, so a
--     run between them may see an agent span as a plain root); the insert that completes a
--     trace also queues it again.
--   {finalize} = 1, the finalize pass over what arrived before the lateness bound: steps of
--     traces with no spans since {quiet_before_ms} become Final as they are; traces still busy
--     are left to a later finalize pass.
-- Steps that already have a Final row are never written again.
-- Walk state, a tuple: (1 current span, 2 nearest agent span, 3 its name, 4 outermost agent span,
-- 5 its parent, 6 stamped run id, 7 that stamped span's agent name, 8 state: 0 walking,
-- 1 complete, 2 parent missing).
INSERT INTO step_attribution
    (Tenant, TraceId, SpanId, Timestamp, RunKey, AgentName, AgentSpanId, IsRunSpan, Complete, Final, Version)
WITH
    batch AS
    (
        SELECT DISTINCT Tenant, TraceId
        FROM trace_activity
        WHERE (InsertedAt, Tenant, TraceId)
                > (fromUnixTimestamp64Milli({from_ms:Int64}), {from_tenant:String}, {from_trace:String})
          AND (InsertedAt, Tenant, TraceId)
                <= (fromUnixTimestamp64Milli({to_ms:Int64}), {to_tenant:String}, {to_trace:String})
    ),
    busy AS
    (
        SELECT DISTINCT Tenant, TraceId
        FROM trace_activity
        WHERE {finalize:UInt8} = 1
          AND InsertedAt > fromUnixTimestamp64Milli({quiet_before_ms:Int64})
    ),
    settled AS
    (
        SELECT Tenant, TraceId, SpanId
        FROM step_attribution FINAL
        WHERE (Tenant, TraceId) IN (SELECT Tenant, TraceId FROM batch)
          AND Final
    ),
    spans AS
    (
        SELECT
            Tenant,
            TraceId,
            SpanId,
            min(Timestamp) AS Start,
            max(ParentSpanId) AS Parent,
            max(IsStep) AS Step,
            max(IsAgent) AS Agent,
            max(AgentName) AS Name,
            max(StampedRunId) AS Stamped
        FROM span_links
        WHERE (Tenant, TraceId) IN (SELECT Tenant, TraceId FROM batch)
        GROUP BY Tenant, TraceId, SpanId
    ),
    traces AS
    (
        SELECT
            Tenant,
            TraceId,
            mapFromArrays(groupArray(SpanId), groupArray((Parent, Agent, Name, Stamped))) AS nodes,
            groupArrayIf((SpanId, Start, Name), Step = 1 AND Stamped = '') AS steps
        FROM spans
        GROUP BY Tenant, TraceId
    ),
    walked AS
    (
        SELECT
            Tenant,
            TraceId,
            step.1 AS SpanId,
            step.2 AS Start,
            step.3 AS StatedName,
            arrayFold(
                (acc, i) -> if(acc.8 != 0, acc,
                    if(NOT mapContains(nodes, acc.1),
                        (acc.1, acc.2, acc.3, acc.4, acc.5, acc.6, acc.7, toUInt8(2)),
                        (nodes[acc.1].1,
                         if(acc.2 = '' AND nodes[acc.1].2 = 1, acc.1, acc.2),
                         if(acc.2 = '' AND nodes[acc.1].2 = 1, nodes[acc.1].3, acc.3),
                         if(nodes[acc.1].2 = 1 AND nodes[acc.1].4 = '', acc.1, acc.4),
                         if(nodes[acc.1].2 = 1 AND nodes[acc.1].4 = '', nodes[acc.1].1, acc.5),
                         nodes[acc.1].4,
                         if(nodes[acc.1].4 != '', nodes[acc.1].3, ''),
                         toUInt8(nodes[acc.1].4 != '' OR nodes[acc.1].1 = '')))),
                range({max_depth:UInt16}),
                (step.1, '', '', '', '', '', '', toUInt8(0))) AS w
        FROM traces
        ARRAY JOIN steps AS step
    )
SELECT
    Tenant,
    TraceId,
    SpanId,
    Start AS Timestamp,
    multiIf(w.6 != '', w.6, w.4 = '' OR w.5 = '', TraceId, w.4) AS RunKey,
    multiIf(w.2 != '', w.3, StatedName != '', StatedName, w.7) AS AgentName,
    w.2 AS AgentSpanId,
    w.6 = '' AND w.4 = SpanId AS IsRunSpan,
    w.8 = 1 AS Complete,
    {finalize:UInt8} = 1 AS Final,
    bitShiftLeft(toUInt64(Final), 62) + toUnixTimestamp64Nano(now64(9)) AS Version
FROM walked
WHERE (Tenant, TraceId, SpanId) NOT IN (SELECT Tenant, TraceId, SpanId FROM settled)
  AND (Tenant, TraceId) NOT IN (SELECT Tenant, TraceId FROM busy)
