-- The DDL of a view over a table every tenant reads whole (reference data such as model prices):
-- every column, back-quoted (see tenant_view.sql).
SELECT format(
    'CREATE OR REPLACE VIEW {}.{} AS SELECT {} FROM {}.{}',
    {database:String},
    {table:String},
    arrayStringConcat(
        arrayMap(c -> concat('`', replaceAll(replaceAll(c.2, '\\', '\\\\'), '`', '\\`'), '`'),
                 arraySort(c -> c.1, groupArray((position, name)))),
        ', '),
    {source_database:String},
    {table:String}
) AS ddl
FROM system.columns
WHERE database = {source_database:String} AND table = {table:String}
