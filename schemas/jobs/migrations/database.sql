-- The current database and its engine (Atomic, Replicated, ...).
SELECT name, engine FROM system.databases WHERE name = currentDatabase()
