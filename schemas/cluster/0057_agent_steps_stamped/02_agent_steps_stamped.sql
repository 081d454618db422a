-- The same column on the Distributed agent_steps, so reads through it can name it.
ALTER TABLE agent_steps ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS IsStamped Bool MATERIALIZED SourceConvention = 'spanhouse' AND RunId NOT IN ('', TraceId)
        COMMENT 'run and agent stamped by our instrumentation: no attribution lookup needed'
