-- The tables of the current database that carry a Tenant column: what a tenant's SQL may read,
-- each filtered to the tenant's rows.
SELECT currentDatabase() AS database, table
FROM system.columns
WHERE database = currentDatabase() AND name = 'Tenant'
GROUP BY table
