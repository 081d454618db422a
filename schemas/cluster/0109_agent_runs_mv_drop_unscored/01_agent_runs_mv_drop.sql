-- migrations/0109_agent_runs_mv_drop_unscored.sql on every shard.
DROP VIEW IF EXISTS agent_runs_mv ON CLUSTER '{cluster}'
