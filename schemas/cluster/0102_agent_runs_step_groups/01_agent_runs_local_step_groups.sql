-- StepGroups on each shard's agent_runs (migrations/0102_agent_runs_step_groups.sql).
ALTER TABLE agent_runs_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS StepGroups SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64))
        COMMENT 'cityHash64(StepKind, StepName, RequestModel) of the steps but the run span'
