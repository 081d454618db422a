-- The rows stored before UnscoredCalls existed hold none; 0112 writes every run again from its
-- steps. (A repeated, interrupted 0112 writes some runs twice: their Copies then exceed their
-- distinct span hashes and agent_runs_resolved recomputes them from the steps, as after 0103.)
TRUNCATE TABLE IF EXISTS agent_runs
