-- Per (agent, step name, model), as a 64-bit hash of the three strings, the model calls of a run
-- with no QualityScore of their own. The recommendations report compares models on their calls'
-- quality, and such a call takes its run's mean quality: per group that is the sum, over runs, of
-- these counts times the run's quality, which the run's own row holds. So the report reads a row
-- per run instead of joining every model call to its run (docs/performance.md). Merged by sumMap
-- as a plain value (SimpleAggregateFunction); a hash collision would only merge two groups' counts.
ALTER TABLE agent_runs
    ADD COLUMN IF NOT EXISTS UnscoredCalls SimpleAggregateFunction(sumMap, Tuple(Array(UInt64), Array(UInt64)))
        COMMENT 'cityHash64(AgentName, StepName, model) -> model calls without a QualityScore of their own'
