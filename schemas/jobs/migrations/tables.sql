-- Tables of the current database and their engines: tells a fresh database, a single-node install
-- and a cluster install (Distributed tables) apart.
SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name
