-- ClickHouse server only: the DDL of the row policy that keeps the reader to the tenant each query
-- names in the SQL_spanhouse_tenant setting ('*' for the operator key), on one table with a Tenant
-- column. It repeats, in the engine's access control, what the tenant's views already do. The
-- caller checks that the names are plain identifiers.
SELECT format(
    'CREATE ROW POLICY OR REPLACE spanhouse_tenant ON {}.{} FOR SELECT USING Tenant = getSetting(\'SQL_spanhouse_tenant\') OR getSetting(\'SQL_spanhouse_tenant\') = \'*\' TO spanhouse_reader',
    {database:String},
    {table:String}
) AS ddl
