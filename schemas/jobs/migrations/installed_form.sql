-- 'cluster' when otel_traces is a Distributed table (made by `spanhouse migrate --cluster`),
-- 'single' otherwise: write jobs that ALTER tables pick their form by it.
SELECT if(countIf(name = 'otel_traces' AND engine = 'Distributed') > 0, 'cluster', 'single') AS form
FROM system.tables
WHERE database = currentDatabase()
