-- agent_failures across the cluster, sharded like agent_steps (by trace): a failed step is on the
-- shard of its step, where the view on agent_steps_local writes it.
CREATE TABLE IF NOT EXISTS agent_failures ON CLUSTER '{cluster}' AS agent_failures_local
ENGINE = Distributed('{cluster}', {database:String}, 'agent_failures_local', cityHash64(TraceId))
