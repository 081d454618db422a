-- The old MergeTree otel_traces, emptied into the new one by 0031.
DROP TABLE IF EXISTS otel_traces_replacing
