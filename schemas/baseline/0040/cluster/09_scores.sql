-- scores across the cluster, beside the trace they score (the run when only RunId is known).
CREATE TABLE IF NOT EXISTS scores ON CLUSTER '{cluster}' AS scores_local
ENGINE = Distributed('{cluster}', {database:String}, 'scores_local', cityHash64(if(TraceId = '', RunId, TraceId)))
