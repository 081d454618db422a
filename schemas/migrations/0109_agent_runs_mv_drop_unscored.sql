-- agent_runs gains the model calls without a score of their own (0110) and is rebuilt from the
-- steps (0111, 0112); its view is dropped first and made again with the new column (0113), as
-- in 0101-0105. Migrations run before the collector takes spans, so no insert passes meanwhile.
DROP VIEW IF EXISTS agent_runs_mv
