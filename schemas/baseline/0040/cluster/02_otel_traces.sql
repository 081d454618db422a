-- otel_traces across the cluster. Sharded by trace id, so a span's copies (ReplacingMergeTree
-- collapses them) and a trace's spans share a shard.
CREATE TABLE IF NOT EXISTS otel_traces ON CLUSTER '{cluster}' AS otel_traces_local
ENGINE = Distributed('{cluster}', {database:String}, 'otel_traces_local', cityHash64(TraceId))
