-- The values the web UI's run filters offer: agents, models, experiments and variants seen in
-- the range, each with how many steps carry it (agents as resolved), most frequent first.
SELECT facet, value, count
FROM
(
    SELECT 'agent' AS facet, AgentName AS value, count() AS count
    FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
    WHERE AgentName != ''
    GROUP BY value
    UNION ALL
    SELECT 'model', if(ResponseModel != '', ResponseModel, RequestModel), count()
    FROM agent_steps
    WHERE Tenant = {tenant:String}
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
      AND IsModelCall AND (ResponseModel != '' OR RequestModel != '')
    GROUP BY 2
    UNION ALL
    SELECT 'experiment', ExperimentId, count()
    FROM agent_steps
    WHERE Tenant = {tenant:String}
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
      AND ExperimentId != ''
    GROUP BY 2
    UNION ALL
    SELECT 'variant', Variant, count()
    FROM agent_steps
    WHERE Tenant = {tenant:String}
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
      AND Variant != ''
    GROUP BY 2
)
ORDER BY facet, count DESC, value
LIMIT 100 BY facet
