-- migrations/0111_agent_runs_truncate_unscored.sql on every shard's agent_runs_local.
TRUNCATE TABLE IF EXISTS agent_runs_local ON CLUSTER '{cluster}'
