-- Scores per agent and score name over a time range (by when the score was given): how many,
-- mean, min and max. A step score is matched to its step, a run score to the run's agent span;
-- a score whose target is not stored (yet) shows with an empty agent. Agents are as resolved
-- (agent_steps_resolved), over every stored step (only the scored ones are looked up). With
-- {service}, only scores of that service's steps and runs.
-- The scored steps are found by a 64-bit hash of their span id (a set of numbers is probed
-- faster than a set of strings: 490 -> 325 ms at 10M steps); a collision only adds a step the
-- join on the span id itself then leaves out.
SELECT
    s.AgentName AS agent,
    t.Name AS score,
    if(t.SpanId = '', 'run', 'step') AS target,
    count() AS scores,
    uniqExact(t.TargetId) AS targets,
    round(avg(t.Value), 4) AS mean,
    min(t.Value) AS min,
    max(t.Value) AS max
FROM
(
    SELECT Name, Value, SpanId, if(SpanId != '', SpanId, RunId) AS TargetId
    FROM scores
    WHERE Tenant = {tenant:String}
      AND Timestamp >= {since:DateTime64(9)}
      AND Timestamp < {until:DateTime64(9)}
) AS t
LEFT JOIN
(
    SELECT SpanId, any(AgentName) AS AgentName, any(ServiceName) AS ServiceName
    FROM agent_steps_resolved(tenant = {tenant:String}, since = '2000-01-01 00:00:00', until = '2200-01-01 00:00:00')
    WHERE cityHash64(SpanId) IN
    (
        SELECT cityHash64(if(SpanId != '', SpanId, RunId))
        FROM scores
        WHERE Tenant = {tenant:String}
          AND Timestamp >= {since:DateTime64(9)}
          AND Timestamp < {until:DateTime64(9)}
    )
    GROUP BY SpanId
) AS s ON s.SpanId = t.TargetId
WHERE {service:String} = '' OR s.ServiceName = {service:String}
GROUP BY agent, score, target
ORDER BY agent, score, target
