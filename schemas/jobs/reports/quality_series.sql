-- Quality over time per agent: mean quality and confidence of the scores recorded in each
-- time bucket of {bucket_seconds}, with the agent's executions in that bucket.
SELECT
    AgentName AS agent,
    toStartOfInterval(Timestamp, toIntervalSecond({bucket_seconds:UInt32})) AS bucket,
    countIf(StepKind = 'agent') AS executions,
    count(QualityScore) AS scored,
    round(avg(QualityScore), 4) AS avg_quality,
    round(avg(Confidence), 4) AS avg_confidence
FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
WHERE ({agent:String} = '' OR AgentName = {agent:String})
GROUP BY agent, bucket
ORDER BY agent, bucket
