-- Whether this database has an alerts table yet (it comes with the budgets work); until it
-- does, experiment alerts are not written anywhere.
SELECT count() AS present
FROM system.tables
WHERE database = currentDatabase() AND name = 'alerts'
