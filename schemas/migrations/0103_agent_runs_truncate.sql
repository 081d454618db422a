-- The rows stored before StepGroups existed hold none; 0104 writes every run again from its steps.
-- (If 0104 is interrupted and repeated, a run written twice has Copies above its distinct span
-- hashes, so agent_runs_resolved recomputes it from the steps: never a wrong figure.)
TRUNCATE TABLE IF EXISTS agent_runs
