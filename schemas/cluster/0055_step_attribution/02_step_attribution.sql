-- step_attribution across the cluster, sharded like agent_steps: a step and its attribution share a shard.
CREATE TABLE IF NOT EXISTS step_attribution ON CLUSTER '{cluster}' AS step_attribution_local
ENGINE = Distributed('{cluster}', {database:String}, 'step_attribution_local', cityHash64(TraceId))
