-- Most recent runs, newest first: agent, start, duration, status (ok, error, or active while the
-- run's outermost agent span has not arrived), steps, tokens, cost, quality, and the class of
-- the innermost failure (the latest-starting failed span: where a propagated failure began).
-- Runs are agent_runs_resolved's (migrations/0084), as in overview.sql: a run starts and lasts as
-- its run span does.
SELECT
    run_id,
    trace_id,
    agent,
    started_at,
    round(duration_ms, 3) AS duration_ms,
    multiIf(NOT finished, 'active', failed, 'error', 'ok') AS status,
    steps,
    failed_steps,
    tokens,
    round(cost_usd, 6) AS cost_usd,
    round(quality, 4) AS quality,
    round(confidence, 4) AS confidence,
    innermost_error AS error_type
FROM agent_runs_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)}, service = {service:String})
WHERE ({agent:String} = '' OR agent = {agent:String})
  AND ({status:String} = '' OR status = {status:String})
ORDER BY started_at DESC, run_id
LIMIT {limit:UInt32}
