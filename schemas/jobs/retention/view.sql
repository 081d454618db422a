-- What each table keeps: its TTL clause ('' = forever) and how many seconds that keeps when it
-- is a plain interval, and its active parts' rows, bytes on disk, oldest and newest day held.
SELECT
    t.name AS table,
    if(t.create_table_query LIKE '% TTL %',
       trim(extract(t.create_table_query, ' TTL (.+?)(?: SETTINGS |$)')), '') AS ttl,
    multiIf(ttl = '', NULL,
            match(ttl, 'toIntervalSecond\\((_CAST\\()?\\d+'),
            toUInt64OrNull(extract(ttl, 'toIntervalSecond\\((?:_CAST\\()?(\\d+)')),
            match(ttl, 'toIntervalDay\\((_CAST\\()?\\d+'),
            toUInt64OrNull(extract(ttl, 'toIntervalDay\\((?:_CAST\\()?(\\d+)')) * 86400,
            NULL) AS keep_seconds,
    ifNull(p.rows, 0) AS rows,
    ifNull(p.bytes_on_disk, 0) AS bytes_on_disk,
    p.oldest_day AS oldest_day,
    p.newest_day AS newest_day,
    ifNull(p.parts, 0) AS parts
FROM system.tables AS t
LEFT JOIN
(
    SELECT
        table,
        sum(rows) AS rows,
        sum(bytes_on_disk) AS bytes_on_disk,
        min(toDateOrNull(partition)) AS oldest_day,
        max(toDateOrNull(partition)) AS newest_day,
        count() AS parts
    FROM system.parts
    WHERE active AND database = currentDatabase()
    GROUP BY table
) AS p ON t.name = p.table
WHERE t.database = currentDatabase() AND has({tables:Array(String)}, t.name)
ORDER BY table
