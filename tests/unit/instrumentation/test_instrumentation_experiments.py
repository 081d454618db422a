"""experiment(): deterministic weighted assignment and stamping of the spans inside."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from spanhouse.instrumentation import RunContextSpanProcessor, _steps, agent, experiment, run_experiment, step

UNITS = [f"user-{i}" for i in range(20000)]


def test_weighted_split_matches_the_weights_on_a_fixed_population() -> None:
    exp = experiment("checkout-copy", variants={"control": 0.5, "short": 0.3, "long": 0.2})
    counts = Counter(exp.assign(unit) for unit in UNITS)
    assert set(counts) == {"control", "short", "long"}
    for name, weight in {"control": 0.5, "short": 0.3, "long": 0.2}.items():
        assert counts[name] / len(UNITS) == pytest.approx(weight, abs=0.015), counts


def test_same_unit_same_variant_and_experiments_are_independent() -> None:
    first = experiment("e1", variants=["a", "b"])
    again = experiment("e1", variants={"b": 1, "a": 1})  # order and scale don't matter
    other = experiment("e2", variants=["a", "b"])
    assert [first.assign(u) for u in UNITS[:500]] == [again.assign(u) for u in UNITS[:500]]
    agreement = sum(first.assign(u) == other.assign(u) for u in UNITS[:2000]) / 2000
    assert 0.4 < agreement < 0.6  # a different experiment reshuffles units
    assert first.assign(42) == first.assign(42)


def test_zero_weight_variant_is_never_assigned() -> None:
    exp = experiment("ramp", variants={"old": 1.0, "new": 0.0})
    assert {exp.assign(u) for u in UNITS[:2000]} == {"old"}


def test_assignment_is_the_same_in_other_processes() -> None:
    code = (
        "import json, sys\n"
        "from spanhouse.instrumentation import experiment\n"
        "exp = experiment('cross-process', variants={'a': 0.7, 'b': 0.2, 'c': 0.1})\n"
        "print(json.dumps([exp.assign(f'user-{i}') for i in range(300)]))\n"
    )
    here = experiment("cross-process", variants={"a": 0.7, "b": 0.2, "c": 0.1})
    expected = [here.assign(f"user-{i}") for i in range(300)]
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdin=subprocess.DEVNULL,
        )
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == expected


@pytest.mark.parametrize(
    ("exp_id", "variants", "message"),
    [
        ("", ["a"], "experiment id"),
        ("x", {}, "at least one variant"),
        ("x", {"a": -1}, "must be >= 0"),
        ("x", {"a": float("nan")}, "finite number"),
        ("x", {"a": 0, "b": 0}, "weight above 0"),
        ("x", {"": 1}, "non-empty strings"),
    ],
)
def test_bad_definitions_are_refused(exp_id: str, variants: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        experiment(exp_id, variants)  # type: ignore[arg-type]


def test_bad_unit_id_is_refused() -> None:
    with pytest.raises(ValueError, match="unit_id"):
        experiment("x", ["a"]).assign("")


@pytest.fixture
def memory() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(RunContextSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _steps._set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        _steps._set_tracer_provider(None)
        provider.shutdown()


def test_spans_inside_use_carry_the_experiment(memory: InMemorySpanExporter) -> None:
    exp = experiment("planner-prompt", variants=["v1", "v2"])
    with agent("bot"), exp.use("user-7") as variant, step("think"):
        pass
    with step("after"):
        pass
    assert variant == exp.assign("user-7")
    spans = {s.name: dict(s.attributes or {}) for s in memory.get_finished_spans()}
    for name in ("invoke_agent bot", "think"):
        assert spans[name]["spanhouse.experiment.id"] == "planner-prompt"
        assert spans[name]["spanhouse.experiment.variant"] == variant
    assert "spanhouse.experiment.id" not in spans["after"]


def test_run_experiment_calls_the_variants_function_with_every_span_stamped(
    memory: InMemorySpanExporter,
) -> None:
    exp = experiment("answer-style", variants={"control": 0.5, "candidate": 0.5})

    @agent("support")
    def old(question: str) -> str:
        with step("draft"):
            return f"old:{question}"

    @agent("support")
    def new(question: str) -> str:
        with step("draft"):
            return f"new:{question}"

    answers = {}
    for user in ("u1", "u2", "u3", "u4", "u5", "u6"):
        answers[user] = run_experiment(exp, user, {"control": old, "candidate": new}, "why?")
        expected = "old:why?" if exp.assign(user) == "control" else "new:why?"
        assert answers[user] == expected
    assert {a.split(":")[0] for a in answers.values()} == {"old", "new"}  # both variants ran
    stamped = [dict(s.attributes or {}) for s in memory.get_finished_spans()]
    assert len(stamped) == 12
    assert all(a["spanhouse.experiment.id"] == "answer-style" for a in stamped)
    assert {a["spanhouse.experiment.variant"] for a in stamped} == {"control", "candidate"}


def test_run_experiment_awaits_async_functions_inside_the_experiment(memory: InMemorySpanExporter) -> None:
    exp = experiment("async-style", variants=["a", "b"])

    async def variant(name: str) -> str:
        with step(f"step {name}"):
            await asyncio.sleep(0)
        return name

    result = asyncio.run(exp.run("unit-1", {"a": variant, "b": variant}, "x"))
    assert result == "x"
    [span] = memory.get_finished_spans()
    assert dict(span.attributes or {})["spanhouse.experiment.variant"] == exp.assign("unit-1")


@pytest.mark.parametrize(
    ("functions", "message"),
    [
        ({"a": print}, "no function for variant\\(s\\) b"),
        ({"a": print, "b": print, "c": print}, "'c' is not a variant of 'checks'"),
    ],
)
def test_run_experiment_refuses_functions_that_do_not_match_the_variants(
    functions: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        run_experiment(experiment("checks", ["a", "b"]), "u", functions)


def test_a_variant_with_no_weight_needs_no_function() -> None:
    assert experiment("ramp-up", {"old": 1.0, "new": 0.0}).run("u", {"old": lambda: "old"}) == "old"
    with pytest.raises(TypeError, match="not callable"):
        experiment("ramp-up", {"old": 1.0, "new": 0.0}).run("u", {"old": "text"})  # type: ignore[dict-item]
