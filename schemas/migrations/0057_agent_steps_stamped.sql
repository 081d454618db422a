-- Whether our instrumentation stamped the row's run and agent (convention spanhouse, with a run
-- id of its own rather than the trace id the processor falls back to): such a row needs no
-- attribution lookup. MATERIALIZED, one byte per row, so the reports' split between stamped rows
-- and looked-up rows does not read two 32-character ids per row (benchmarks/attribution.py).
ALTER TABLE agent_steps
    ADD COLUMN IF NOT EXISTS IsStamped Bool MATERIALIZED SourceConvention = 'spanhouse' AND RunId NOT IN ('', TraceId)
        COMMENT 'run and agent stamped by our instrumentation: no attribution lookup needed'
