-- The lookup across the cluster, as Grafana's trace view reads it.
CREATE TABLE IF NOT EXISTS otel_traces_trace_id_ts ON CLUSTER '{cluster}' AS otel_traces_trace_id_ts_local
ENGINE = Distributed('{cluster}', {database:String}, 'otel_traces_trace_id_ts_local', cityHash64(TraceId))
