-- The same column on the Distributed agent_runs, so reads through it can name it.
ALTER TABLE agent_runs ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS UnscoredCalls SimpleAggregateFunction(sumMap, Tuple(Array(UInt64), Array(UInt64)))
        COMMENT 'cityHash64(AgentName, StepName, model) -> model calls without a QualityScore of their own'
