-- The DDL of one tenant's view over a table: every column of the table (ALIAS and MATERIALIZED
-- ones too, which SELECT * leaves out), the tenant's rows only. ClickHouse takes no parameters in
-- a view's name or body (a {name:Type} there makes a parameterized view), so the statement is
-- written here: column names back-quoted, the tenant quoted as a string literal. The caller
-- checks that the database and table names are plain identifiers.
SELECT format(
    'CREATE OR REPLACE VIEW {}.{} AS SELECT {} FROM {}.{} WHERE Tenant = {}',
    {database:String},
    {table:String},
    arrayStringConcat(
        arrayMap(c -> concat('`', replaceAll(replaceAll(c.2, '\\', '\\\\'), '`', '\\`'), '`'),
                 arraySort(c -> c.1, groupArray((position, name)))),
        ', '),
    {source_database:String},
    {table:String},
    concat('\'', replaceAll(replaceAll({tenant:String}, '\\', '\\\\'), '\'', '\\\''), '\'')
) AS ddl
FROM system.columns
WHERE database = {source_database:String} AND table = {table:String}
