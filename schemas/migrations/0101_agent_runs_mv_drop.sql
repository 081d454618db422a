-- agent_runs gains StepGroups (0102) and is rebuilt from the steps (0103, 0104); its view is
-- dropped first and made again with the new column (0105). Migrations run before the collector
-- takes spans, so no insert passes while the view is missing.
DROP VIEW IF EXISTS agent_runs_mv
