-- ClickHouse server only: the DDL that lets the reader read one database (the collector's, or a
-- tenant's database of views). GRANT takes no parameter for a name, so the statement is written
-- here; the caller checks that the name is a plain identifier.
SELECT format('GRANT SELECT ON {}.* TO spanhouse_reader', {database:String}) AS ddl
