-- agent_steps across the cluster, sharded like otel_traces: a step's copies and a trace's steps
-- share a shard.
CREATE TABLE IF NOT EXISTS agent_steps ON CLUSTER '{cluster}' AS agent_steps_local
ENGINE = Distributed('{cluster}', {database:String}, 'agent_steps_local', cityHash64(TraceId))
