-- The DDL of one tenant's copy of a parameterized view of the collector's (agent_steps_resolved,
-- agent_runs_resolved): the same parameters, forwarded to the collector's view. Its reads of the
-- collector's tables run under the tenant's additional_table_filters, and the reader forces
-- {tenant} to the key's own, so it yields the tenant's rows only. Written here with format(), as
-- tenant_view.sql is (ClickHouse takes no parameters in a view's name); the caller checks the
-- names are identifiers, and {parameters} (name, type) come from the collector's own list
-- (readpath/catalogue.py VIEW_PARAMETERS), never from a request.
SELECT format(
    'CREATE OR REPLACE VIEW {}.{} AS SELECT * FROM {}.{}({})',
    {database:String},
    {table:String},
    {source_database:String},
    {table:String},
    arrayStringConcat(arrayMap(p -> concat(p.1, ' = {', p.1, ':', p.2, '}'), {parameters:Array(Tuple(String, String))}), ', ')
) AS ddl
