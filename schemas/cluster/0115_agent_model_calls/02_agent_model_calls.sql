-- agent_model_calls across the cluster. Each shard sums its own calls, so a group's quarter may
-- have a row on several shards; agent_model_calls_resolved reads each shard's rows as they are
-- (the report sums them), so the sharding key only places the backfill's and re-prices' rows.
CREATE TABLE IF NOT EXISTS agent_model_calls ON CLUSTER '{cluster}' AS agent_model_calls_local
ENGINE = Distributed('{cluster}', {database:String}, 'agent_model_calls_local', cityHash64(Tenant, Quarter, StepName))
