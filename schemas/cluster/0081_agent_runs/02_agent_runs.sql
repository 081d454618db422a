-- agent_runs across the cluster, sharded like agent_steps (by trace): the view on each shard's
-- agent_steps_local writes there, and agent_runs_resolved merges a run's rows across shards.
CREATE TABLE IF NOT EXISTS agent_runs ON CLUSTER '{cluster}' AS agent_runs_local
ENGINE = Distributed('{cluster}', {database:String}, 'agent_runs_local', cityHash64(TraceId))
