-- Tenants with steps in [since, until) ({tenant} '*' = any, else only that one): whose quality
-- trend and health the evaluator judges.
SELECT DISTINCT Tenant AS tenant
FROM agent_steps
WHERE Timestamp >= {since:DateTime64(3)} AND Timestamp < {until:DateTime64(3)}
  AND ({tenant:String} = '*' OR Tenant = {tenant:String})
ORDER BY tenant
