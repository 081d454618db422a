-- trace_activity across the cluster, sharded by trace; the attribution job reads it whole.
CREATE TABLE IF NOT EXISTS trace_activity ON CLUSTER '{cluster}' AS trace_activity_local
ENGINE = Distributed('{cluster}', {database:String}, 'trace_activity_local', cityHash64(TraceId))
