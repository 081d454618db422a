-- span_links across the cluster, sharded like otel_traces: a trace's links share a shard.
CREATE TABLE IF NOT EXISTS span_links ON CLUSTER '{cluster}' AS span_links_local
ENGINE = Distributed('{cluster}', {database:String}, 'span_links_local', cityHash64(TraceId))
