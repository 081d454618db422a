"""`spanhouse experiments` as a user runs it: through a running collector's API, and on a store
no collector owns; tables, JSON and CSV; bad definitions end with exit 2 and the rule broken."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import time
from pathlib import Path

import numpy as np
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from experiment_units import Unit, write_units
from helpers import CollectorProcess, run_cli
from spanhouse.collector.store import open_store
from spanhouse.instrumentation import (
    RunContextSpanProcessor,
    _steps,
    agent,
    experiment,
    run_experiment,
    score,
)

UNITS = 120


def spanhouse(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, check=check)


def send_runs(collector: CollectorProcess) -> dict[str, int]:
    exp = experiment("tone", {"formal": 0.5, "casual": 0.5})
    provider = TracerProvider(resource=Resource.create({"service.name": "experiments-cli"}))
    provider.add_span_processor(RunContextSpanProcessor())
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces"))
    )
    _steps._set_tracer_provider(provider)
    rng = random.Random(3)

    @agent("writer")
    def formal() -> None:
        score(rng.gauss(0.60, 0.05))

    @agent("writer")
    def casual() -> None:
        score(rng.gauss(0.70, 0.05))

    counts = {"formal": 0, "casual": 0}
    try:
        for i in range(UNITS):
            run_experiment(exp, i, {"formal": formal, "casual": casual})
            counts[exp.assign(i)] += 1
        assert provider.force_flush(30_000)
    finally:
        _steps._set_tracer_provider(None)
        provider.shutdown()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = collector.sql("SELECT count() AS n FROM agent_steps WHERE ServiceName = 'experiments-cli'")
        if rows[0]["n"] >= UNITS:
            return counts
        time.sleep(0.2)
    raise AssertionError(f"runs not stored: {collector.log()}")


def test_the_experiment_lifecycle_through_a_running_collector(collector: CollectorProcess) -> None:
    counts = send_runs(collector)
    where = ("--data-dir", str(collector.data_dir))
    out = spanhouse(
        "experiments", "create", "tone", "--variants", "formal=50,casual=50", "--control", "formal",
        "--primary", "quality", "--guard", "success_rate", "--min-sample", "30", *where,
    )  # fmt: skip
    assert "created experiment 'tone'" in out.stderr and "spanhouse experiments start tone" in out.stderr

    listed = json.loads(spanhouse("experiments", "list", *where, "--format", "json").stdout)
    assert [(e["name"], e["status"], e["control"]) for e in listed] == [("tone", "draft", "formal")]
    out = spanhouse("experiments", "start", "tone", "--at", "2000-01-01T00:00:00", *where)
    assert "experiment 'tone' is running (from 2000-01-01T00:00:00)" in out.stderr

    document = json.loads(spanhouse("experiments", "results", "tone", *where, "--format", "json").stdout)
    units = {r["variant"]: r["units"] for r in document["results"] if r["metric"] == "quality"}
    assert units == counts
    assert (
        document["verdict"]["winner"] == "casual"
        and document["verdict"]["primary_p_value_kind"] == "always_valid"
    )

    table = spanhouse("experiments", "results", "tone", *where).stdout
    assert "verdict: casual wins" in table and "always-valid (mSPRT)" in table
    assert "sample ratio check: chi-square p =" in table and "p (Holm)" in table

    rows = list(
        csv.DictReader(io.StringIO(spanhouse("experiments", "results", "tone", *where, "-f", "csv").stdout))
    )
    assert {(r["metric"], r["variant"]) for r in rows} == {
        ("quality", "formal"), ("quality", "casual"), ("success_rate", "formal"), ("success_rate", "casual"),
    }  # fmt: skip
    assert {r["verdict"] for r in rows} == {"winner"} and {r["winner"] for r in rows} == {"casual"}

    spanhouse("experiments", "results", "tone", "--store", *where)
    history = json.loads(spanhouse("experiments", "history", "tone", *where, "-f", "json").stdout)
    assert history and history[0]["verdict"] == "winner" and history[0]["winner"] == "casual"

    out = spanhouse("experiments", "stop", "tone", *where)
    assert "experiment 'tone' is stopped" in out.stderr
    shown = json.loads(spanhouse("experiments", "show", "tone", *where, "-f", "json").stdout)
    assert shown["status"] == "stopped" and shown["end_at"] is not None


def test_bad_arguments_end_with_exit_2_and_the_rule(collector: CollectorProcess) -> None:
    where = ("--data-dir", str(collector.data_dir))
    cases = [
        (("--variants", "a=50,b=40", "--primary", "quality"), "must sum to 100; a=50, b=40 sum to 90"),
        (("--variants", "a=50,b=50", "--primary", "latency"), "unknown metric 'latency'"),
        (("--variants", "a=50,b=50", "--primary", "quality", "--control", "c"), "control 'c' is not one of"),
        (("--variants", "a50,b50", "--primary", "quality"), "must look like name=weight"),
        (("--variants", "a=50,b=50", "--primary", "quality", "--unit", "tenant"), "unit 'tenant' must be"),
    ]
    for arguments, message in cases:
        out = spanhouse("experiments", "create", "bad", *arguments, *where, check=False)
        assert out.returncode == 2, out
        assert message in " ".join(out.stderr.split()), out.stderr
    spanhouse("experiments", "create", "twice", "--variants", "a=50,b=50", "--primary", "quality", *where)
    out = spanhouse(
        "experiments", "create", "twice", "--variants", "a=50,b=50", "--primary", "cost", *where, check=False
    )
    assert out.returncode == 2 and "exists already" in " ".join(out.stderr.split())
    out = spanhouse("experiments", "start", "missing", *where, check=False)
    assert out.returncode == 2 and "no experiment named 'missing'" in " ".join(out.stderr.split())


def test_the_same_commands_on_a_store_no_collector_owns(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    store = open_store(data_dir=data_dir)
    store.migrate()
    rng = np.random.default_rng(70)
    units = [Unit(i, "control" if rng.random() < 0.7 else "candidate", quality=float(rng.normal(0.6, 0.1)))
             for i in range(400)]  # fmt: skip
    write_units(store, "split", units)
    store.close()
    where = ("--data-dir", str(data_dir))
    spanhouse(
        "experiments",
        "create",
        "split",
        "--variants",
        "control=50,candidate=50",
        "--primary",
        "quality",
        *where,
    )
    spanhouse("experiments", "start", "split", "--at", "2000-01-01", *where)
    document = json.loads(spanhouse("experiments", "results", "split", *where, "-f", "json").stdout)
    verdict = document["verdict"]
    assert verdict["srm_flagged"] and verdict["winner"] is None
    assert verdict["reasons"][0].startswith("sample ratio mismatch")
