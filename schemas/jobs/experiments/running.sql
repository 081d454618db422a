-- Every tenant's running experiments, for the scheduled evaluation (operator access: it reads
-- all tenants, and each tenant's experiments are then evaluated with that tenant's filter).
SELECT Tenant AS tenant, groupArray(Name) AS names
FROM
(
    SELECT Tenant, Name
    FROM experiments FINAL
    WHERE Status = 'running'
    ORDER BY Tenant, Name
)
GROUP BY Tenant
ORDER BY tenant
