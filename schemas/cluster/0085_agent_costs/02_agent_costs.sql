-- agent_costs across the cluster. Each shard sums its own calls, so a group's quarter may have a
-- row on several shards; agent_costs_resolved reads each shard's rows as they are (readers sum
-- them), so the sharding key only places the rows of the backfill and of re-price corrections.
CREATE TABLE IF NOT EXISTS agent_costs ON CLUSTER '{cluster}' AS agent_costs_local
ENGINE = Distributed('{cluster}', {database:String}, 'agent_costs_local', cityHash64(Tenant, Quarter, AgentName, Model))
