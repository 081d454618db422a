-- The distinct (step kind, step name, model) groups of a run's steps but its run span, as 64-bit
-- hashes: the steps report counts a group's runs from a row per run (agent_runs_resolved's
-- step_groups) instead of a set of run hashes over every step (docs/performance.md).
ALTER TABLE agent_runs
    ADD COLUMN IF NOT EXISTS StepGroups SimpleAggregateFunction(groupUniqArrayArray, Array(UInt64))
        COMMENT 'cityHash64(StepKind, StepName, RequestModel) of the steps but the run span'
