-- The same column on the Distributed agent_runs, so reads through it can name it.
ALTER TABLE agent_runs ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS StepGroups SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64))
        COMMENT 'cityHash64(StepKind, StepName, RequestModel) of the steps but the run span'
