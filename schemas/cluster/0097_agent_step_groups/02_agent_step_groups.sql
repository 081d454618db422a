-- agent_step_groups across the cluster. Each shard groups its own steps, so a group's quarter may
-- have a row on several shards; agent_step_groups_resolved reads each shard's rows as they are
-- (readers sum them and join their durations), so the sharding key only places the backfill's rows.
CREATE TABLE IF NOT EXISTS agent_step_groups ON CLUSTER '{cluster}' AS agent_step_groups_local
ENGINE = Distributed('{cluster}', {database:String}, 'agent_step_groups_local', cityHash64(Tenant, Quarter, StepName))
