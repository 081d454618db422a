-- span_links on each shard, replicated within it: migrations/0050_span_links.sql with the Replicated
-- engine. Sharded by trace like otel_traces and agent_steps, so the views below stay on one shard.
CREATE TABLE IF NOT EXISTS span_links_local ON CLUSTER '{cluster}'
(
    Tenant LowCardinality(String) CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    ParentSpanId SimpleAggregateFunction(max, String) CODEC(ZSTD(1)),
    IsStep SimpleAggregateFunction(max, UInt8) COMMENT '1 when the span is an agent_steps row',
    IsAgent SimpleAggregateFunction(max, UInt8) COMMENT '1 for agent and workflow spans (StepKind agent)',
    AgentName SimpleAggregateFunction(max, String) COMMENT 'agent_steps.AgentName as the span stated it',
    StampedRunId SimpleAggregateFunction(max, String)
        COMMENT 'run id our instrumentation stamped on the span; such a span needs no lookup'
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(Timestamp)
ORDER BY (Tenant, TraceId, SpanId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
