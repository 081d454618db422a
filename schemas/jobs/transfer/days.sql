-- The days a table holds rows for (its partitions): export writes one file per table and day.
SELECT DISTINCT toDate(Timestamp) AS day FROM {table:Identifier} ORDER BY day
