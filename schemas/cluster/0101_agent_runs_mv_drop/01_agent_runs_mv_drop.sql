-- migrations/0101_agent_runs_mv_drop.sql on every shard.
DROP VIEW IF EXISTS agent_runs_mv ON CLUSTER '{cluster}'
