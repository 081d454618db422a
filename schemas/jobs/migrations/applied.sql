-- Versions recorded in schema_migrations (the runner creates the table before reading it).
SELECT Version FROM schema_migrations FINAL ORDER BY Version
