-- migrations/0107_agent_steps_stamped_index.sql on each shard's agent_steps_local (the Distributed
-- agent_steps stores nothing and is left as it is).
ALTER TABLE agent_steps_local ON CLUSTER '{cluster}' ADD INDEX IF NOT EXISTS idx_stamped IsStamped TYPE minmax GRANULARITY 1
