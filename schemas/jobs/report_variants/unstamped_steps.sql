-- Whether [since, until) holds a step our instrumentation did not stamp (reports.VARIANTS' probe
-- for the steps and recommendations reports): the first such row answers. WHERE, not PREWHERE: under a tenant key
-- agent_steps is a view over the tenant's rows.
SELECT count() > 0
FROM
(
    SELECT 1
    FROM agent_steps
    WHERE NOT IsStamped
      AND ({tenant:String} = '*' OR Tenant = {tenant:String})
      AND Timestamp >= {since:DateTime64(9)}
      AND Timestamp < {until:DateTime64(9)}
      AND ({service:String} = '' OR ServiceName = {service:String})
    LIMIT 1
)
