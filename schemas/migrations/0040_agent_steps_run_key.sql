-- Which run a row belongs to, and whether it is the run's own span, so every report groups runs
-- the same way. Our instrumentation stamps RunId (the outermost agent span id) on every span.
-- Spans of other conventions fall back to the trace id, except a parentless agent span, which
-- names its run by its own span id; RunKey folds that span back into its trace.
-- MATERIALIZED (computed at insert, stored) rather than ALIAS: grouping runs then reads one
-- column instead of five (benchmarks/reports.py: about 1.6x faster run-level reports). Parts
-- written before this migration compute the values when read, until merges store them.
ALTER TABLE agent_steps
    ADD COLUMN IF NOT EXISTS RunKey String MATERIALIZED
        if(RunId = TraceId OR (RunId = SpanId AND ParentSpanId = '' AND SourceConvention != 'spanhouse'),
           TraceId, RunId)
        COMMENT 'run this row belongs to, whatever convention produced it',
    ADD COLUMN IF NOT EXISTS IsRunSpan Bool MATERIALIZED StepKind = 'agent' AND SpanId = RunId
        COMMENT 'the outermost agent span of a run, which ends when the run ends'
