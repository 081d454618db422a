-- The collector's tables as the read path sees them: engine, whether each has a Tenant column,
-- and a signature of its columns (a view made over it is remade when the signature changes).
SELECT
    t.name AS table,
    t.engine AS engine,
    countIf(c.name = 'Tenant') > 0 AS has_tenant,
    cityHash64(arrayStringConcat(groupArray(concat(c.name, ' ', c.type)), ',')) AS signature
FROM system.tables AS t
INNER JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = currentDatabase() AND NOT t.is_temporary
GROUP BY t.name, t.engine
ORDER BY t.name
