"""Late scores (score_span, score_run) show in `spanhouse traces show`, as text and as JSON."""

from __future__ import annotations

import json
import os

from helpers import CollectorProcess, run_app, run_cli

APP = """
import json, sys
from spanhouse.instrumentation import agent, configure, current_run, record_step, score_run, score_span, shutdown
configure(service_name="scored-app", endpoint=sys.argv[1])
with agent("helper"):
    run = current_run()
    ref = record_step("plan", model="gpt-4o-mini", input_tokens=120, output_tokens=30)
score_span(ref.trace_id, ref.span_id, 0.8, name="helpfulness", source="evaluator", confidence=0.7)
score_run(run, 1, name="thumbs", source="user", comment="spot on")
shutdown()
print(json.dumps({"run_id": run.run_id, "span_id": ref.span_id}))
"""


def test_late_scores_show_on_their_step_and_run(collector: CollectorProcess) -> None:
    ids = run_app(APP, collector)
    collector.wait_until(
        "SELECT count() AS n FROM scores WHERE RunId = {r:String} OR SpanId = {s:String}",
        2,
        {"r": ids["run_id"], "s": ids["span_id"]},
    )
    args = ("traces", "show", ids["run_id"], "--data-dir", str(collector.data_dir))
    document = json.loads(run_cli(*args, "--format", "json").stdout)
    scores = {s["name"]: s for s in document["scores"]}
    assert scores["helpfulness"] | {"at": None} == {
        "span_id": ids["span_id"],
        "step": "plan",
        "target": "step",
        "name": "helpfulness",
        "value": 0.8,
        "confidence": 0.7,
        "source": "evaluator",
        "comment": "",
        "at": None,
    }
    assert (scores["thumbs"]["span_id"], scores["thumbs"]["target"]) == (ids["run_id"], "run")
    assert (scores["thumbs"]["value"], scores["thumbs"]["comment"]) == (1.0, "spot on")
    spans = {s["span_id"]: s for s in document["spans"]}
    assert [s["name"] for s in spans[ids["span_id"]]["scores"]] == ["helpfulness"]
    assert [s["name"] for s in spans[ids["run_id"]]["scores"]] == ["thumbs"]
    text = " ".join(run_cli(*args, env={**os.environ, "COLUMNS": "200"}).stdout.split())
    assert "scored helpfulness 0.8 (evaluator, confidence 0.70)" in text
    assert "scored thumbs 1 (user, 'spot on')" in text
    assert "score plan (step): helpfulness 0.8" in text and "score helper (run): thumbs 1" in text
