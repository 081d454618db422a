-- migrations/0108_agent_steps_stamped_index_build.sql on each shard's agent_steps_local.
ALTER TABLE agent_steps_local ON CLUSTER '{cluster}' MATERIALIZE INDEX idx_stamped
