-- agent_steps becomes a ReplacingMergeTree keyed down to the span, so a step delivered twice
-- counts once in every figure read with FINAL (the collector's read paths set `final = 1`).
CREATE TABLE IF NOT EXISTS agent_steps_replacing AS agent_steps
ENGINE = ReplacingMergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, AgentName, StepKind, Timestamp, TraceId, SpanId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000
