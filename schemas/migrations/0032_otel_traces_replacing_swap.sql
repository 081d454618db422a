-- The new table takes the name otel_traces; the old one is left as otel_traces_replacing.
EXCHANGE TABLES otel_traces AND otel_traces_replacing
