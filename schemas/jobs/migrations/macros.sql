-- The server's macros: the cluster DDL needs {cluster}, {shard} and {replica}.
SELECT macro, substitution FROM system.macros ORDER BY macro
