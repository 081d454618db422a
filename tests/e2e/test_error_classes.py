"""An agent's own exception is an agent_error, a failed model call a generation_error, and the
debugging report's advice follows the class (a real app, a real collector, the CLI)."""

from __future__ import annotations

from helpers import CollectorProcess, run_app, run_cli

APP = """
import json, sys
from spanhouse.instrumentation import agent, configure, current_run, shutdown, step
configure(service_name="error-classes", endpoint=sys.argv[1])
runs = {}
try:
    with agent("parser"):
        runs["agent"] = current_run().run_id
        with step("read config"):
            raise RuntimeError("config file has no [model] section")
except RuntimeError:
    pass
try:
    with agent("caller"):
        runs["model"] = current_run().run_id
        with step("ask model", kind="llm"):
            raise ConnectionResetError("provider closed the connection")
except ConnectionResetError:
    pass
shutdown()
print(json.dumps(runs))
"""


def test_an_agents_own_error_is_not_blamed_on_the_provider(collector: CollectorProcess) -> None:
    runs = run_app(APP, collector)
    query = "SELECT StepName AS step, ErrorType AS error FROM agent_steps WHERE ServiceName = 'error-classes'"
    rows = collector.wait_until(query, 4)
    assert {r["step"]: r["error"] for r in rows} == {
        "parser": "agent_error",
        "read config": "agent_error",
        "caller": "agent_error",  # failed because its model call did: propagated, not the cause
        "ask model": "generation_error",
    }
    data = ("--data-dir", str(collector.data_dir))
    own = run_cli("traces", "report", runs["agent"], *data).stdout
    assert "read config failed with agent_error: the agent's own code raised" in own
    assert "provider" not in own
    model = run_cli("traces", "report", runs["model"], *data).stdout
    assert "ask model failed with generation_error: check the provider's response and limits" in model
