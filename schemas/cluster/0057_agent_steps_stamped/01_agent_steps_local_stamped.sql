-- IsStamped on each shard's agent_steps (migrations/0057_agent_steps_stamped.sql).
ALTER TABLE agent_steps_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS IsStamped Bool MATERIALIZED SourceConvention = 'spanhouse' AND RunId NOT IN ('', TraceId)
        COMMENT 'run and agent stamped by our instrumentation: no attribution lookup needed'
