-- UnscoredCalls on each shard's agent_runs (migrations/0110_agent_runs_unscored_calls.sql).
ALTER TABLE agent_runs_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS UnscoredCalls SimpleAggregateFunction(sumMap, Tuple(Array(UInt64), Array(UInt64)))
        COMMENT 'cityHash64(AgentName, StepName, model) -> model calls without a QualityScore of their own'
