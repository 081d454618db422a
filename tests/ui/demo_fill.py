"""Fills a running collector for the browser tests, as an instrumented application would.

Run as a script (one tracer provider per process): ``python fill.py <grpc endpoint> <api key>``.
Sends the demo workload, then a few runs whose content the tests know exactly: two runs of one
agent that differ in one step (for the comparison), a run with captured content, a run in an
experiment, and a run whose names and attributes are HTML and script (for the escaping tests).
Prints the ids of those runs as JSON. ``python demo_fill.py <endpoint> <key> ranker <n>`` sends
instead n runs of the experiment ``ranker`` (two variants, quality scores), as its own traffic.
"""

from __future__ import annotations

import json
import random
import sys
import time

from spanhouse import instrumentation
from spanhouse.collector.demo.workload import WorkloadSettings, run_workload
from spanhouse.instrumentation import (
    agent,
    current_run,
    experiment,
    record_step,
    score,
    score_run,
    score_span,
)

HOSTILE = '<img src=x onerror="window.__xss=1">'
HOSTILE_SCRIPT = "<script>window.__xss=2</script>"


def main(endpoint: str, key: str, demo_runs: int) -> dict[str, object]:
    instrumentation.configure(
        service_name="spanhouse-demo",
        endpoint=endpoint,
        protocol="grpc",
        headers={"authorization": f"Bearer {key}"},
        capture_content=True,
    )
    if demo_runs:
        run_workload(WorkloadSettings(runs=demo_runs, seed=7, concurrency=4, time_scale=0.2))
    ids: dict[str, object] = {"compare": [_compare_run(slow_search=False), _compare_run(slow_search=True)]}
    ids["content"] = _content_run()
    ids["experiment"] = _experiment_run()
    ids["hostile"] = _hostile_run()
    instrumentation.force_flush()
    instrumentation.shutdown()
    return ids


def _compare_run(*, slow_search: bool) -> str:
    """Two runs of `comparer`: the second's search step fails, takes longer and is followed by a retry."""
    with agent("comparer"):
        now = time.time() + 0.001  # the steps lie inside the agent (record_step moves earlier ones up)
        run = current_run()
        record_step(
            "plan",
            model="gpt-4o-mini",
            provider="openai",
            input_tokens=300,
            output_tokens=40,
            start_time=now,
            duration_s=0.02,
        )
        record_step(
            "search",
            kind="tool",
            start_time=now + 0.02,
            duration_s=0.09 if slow_search else 0.03,
            error="search timed out" if slow_search else None,
        )
        if slow_search:
            record_step("retry search", kind="tool", start_time=now + 0.11, duration_s=0.02)
        record_step(
            "answer",
            model="gpt-4o-mini",
            provider="openai",
            input_tokens=900,
            output_tokens=200 if slow_search else 120,
            start_time=now + 0.13,
            duration_s=0.04,
        )
        time.sleep(0.18)
    assert run is not None
    return run.run_id


def _content_run() -> dict[str, str]:
    with agent("content-keeper"):
        run = current_run()
        ref = record_step(
            "answer with content",
            model="gpt-4o-mini",
            provider="openai",
            input_tokens=1000,
            cached_input_tokens=400,
            cache_write_tokens=100,
            output_tokens=80,
            reasoning_tokens=20,
            finish_reason="stop",
            input_messages=[
                {"role": "user", "parts": [{"type": "text", "content": "What is the capital of France?"}]}
            ],
            output_messages=[{"role": "assistant", "parts": [{"type": "text", "content": "Paris."}]}],
            duration_s=0.01,
        )
    assert run is not None and ref is not None
    score_span(ref.trace_id, ref.span_id, 0.25, name="helpfulness", source="evaluator", comment="too short")
    score_run(run, 1, name="thumbs", source="user")
    return {"run_id": run.run_id, "trace_id": run.trace_id, "span_id": ref.span_id}


def _experiment_run() -> str:
    prompt = experiment("prompt-v2", {"control": 0.5, "candidate": 0.5})
    with agent("experimenter"), prompt.use("user-1"):
        run = current_run()
        record_step(
            "respond",
            model="gpt-4o-mini",
            provider="openai",
            input_tokens=10,
            output_tokens=5,
            duration_s=0.005,
        )
    assert run is not None
    return run.run_id


def ranker_runs(endpoint: str, key: str, count: int) -> list[str]:
    """`count` runs of experiment `ranker`, one user each; the candidate scores a little higher."""
    instrumentation.configure(
        service_name="spanhouse-demo",
        endpoint=endpoint,
        protocol="grpc",
        headers={"authorization": f"Bearer {key}"},
    )
    ranker = experiment("ranker", {"control": 0.5, "candidate": 0.5})
    rng = random.Random(11)
    ids = []
    for user in range(count):
        with agent("ranker-agent"), ranker.use(f"user-{user}") as variant:
            run = current_run()
            record_step(
                "rank",
                model="gpt-4o-mini",
                provider="openai",
                input_tokens=rng.randint(100, 900),
                output_tokens=40,
                duration_s=0.005,
            )
            score(round(min(1.0, rng.gauss(0.70 if variant == "control" else 0.78, 0.08)), 3))
        assert run is not None
        ids.append(run.run_id)
    instrumentation.force_flush()
    instrumentation.shutdown()
    return ids


def _hostile_run() -> str:
    with agent(HOSTILE):
        run = current_run()
        record_step(
            HOSTILE_SCRIPT,
            model=HOSTILE,
            input_tokens=5,
            output_tokens=5,
            duration_s=0.005,
            error=HOSTILE,
            attributes={"note": HOSTILE, HOSTILE_SCRIPT: "javascript:alert(1)"},
        )
    assert run is not None
    return run.run_id


if __name__ == "__main__":
    if sys.argv[3:4] == ["ranker"]:
        print(json.dumps(ranker_runs(sys.argv[1], sys.argv[2], int(sys.argv[4]))))
    else:
        print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 40)))
