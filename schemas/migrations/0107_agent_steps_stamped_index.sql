-- A minmax index on IsStamped, so the reads of the steps our instrumentation did not stamp (the
-- resolved views' lookups in step_attribution, the steps report's probe) skip the granules that hold
-- only stamped steps instead of reading IsStamped over the whole range. At 10M stamped steps: the
-- probe 24 → 7 ms, the steps report 506-560 → 446-451 ms (docs/performance.md). 0108 builds it for
-- the parts stored before; until that mutation reaches a part, the part is read as before.
ALTER TABLE agent_steps ADD INDEX IF NOT EXISTS idx_stamped IsStamped TYPE minmax GRANULARITY 1
