-- The trace id lookup view still follows the old table; it is made again on the new one.
DROP VIEW IF EXISTS otel_traces_trace_id_ts_mv
