-- Rows stored before the engine change move to the new table.
INSERT INTO otel_traces_replacing SELECT * FROM otel_traces
