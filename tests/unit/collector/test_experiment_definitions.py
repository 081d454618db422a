"""Experiment definitions: every rule gives a clear error naming the field and the fix."""

from __future__ import annotations

import datetime as dt

import pytest

from spanhouse.collector.errors import ConfigError
from spanhouse.collector.experiments import define, from_document
from spanhouse.collector.experiments.critical import t_two_sided, z_one_sided, z_two_sided
from spanhouse.collector.experiments.definition import RUNNING, STOPPED, parse_variants


def test_a_definition_from_the_cli_shape() -> None:
    d = define(
        "prompt-v2",
        "control=50,candidate=50",
        primary="quality",
        metrics="success_rate,cost",
        guards="cost,duration",
        alpha=0.01,
        min_sample=200,
    )
    assert d.variants == ("control", "candidate") and d.weights == (50.0, 50.0)
    assert d.control == "control" and d.unit == "run" and d.status == "draft"
    assert d.metrics == ("quality", "success_rate", "cost", "duration")
    assert d.guards == ("cost", "duration") and d.role("quality") == "primary"
    assert d.role("cost") == "guard" and d.role("success_rate") == "secondary"


def test_the_control_defaults_to_the_first_variant_without_one_named_control() -> None:
    assert define("x", {"a": 30, "b": 70}, primary="cost").control == "a"
    assert define("x", {"a": 30, "b": 70}, primary="cost", control="b").control == "b"


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ("control=50,candidate=40", "must sum to 100; control=50, candidate=40 sum to 90"),
        ({"control": 60, "candidate": 60}, "sum to 120"),
        ("control=50", "at least two variants"),
        ("control=50,control=50", "'control' is listed twice"),
        ("control=100,candidate=0", "needs a weight above 0"),
        ("control=fifty,candidate=50", "'fifty', not a number"),
        ("control:50", "must look like name=weight"),
        ({"bad name": 50, "b": 50}, "variant name 'bad name'"),
        (["control", "candidate"], "must map each name to its weight"),
    ],
)
def test_bad_variants_are_refused_with_the_rule(variants: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        define("x", variants, primary="quality")  # type: ignore[arg-type]


def test_a_control_that_is_not_a_variant_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"control 'baseline' is not one of the variants \(a, b\)"):
        define("x", "a=50,b=50", primary="quality", control="baseline")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"primary": "latency"}, "unknown metric 'latency'; use one of success_rate, duration"),
        ({"primary": "quality", "metrics": "quality,speed"}, "unknown metric 'speed'"),
        ({"primary": "quality", "guards": "cost,cost"}, "guard cost is listed twice"),
        ({"primary": "quality", "guards": "quality"}, "both the primary and a guard"),
        ({"primary": "score:"}, "a score name is 1-200 letters"),
        (
            {"primary": "quality", "unit": "tenant"},
            "unit 'tenant' must be run, user, session or attribute:<key>",
        ),
        ({"primary": "quality", "alpha": 0.7}, r"alpha 0.7 must be a number in \(0, 0.5\]"),
        ({"primary": "quality", "min_sample": 1}, "min_sample 1 must be a whole number"),
        ({"primary": "quality", "target_effect": -1}, "target_effect -1 must be a positive number"),
        ({"primary": "quality", "start_at": "yesterday"}, "start_at 'yesterday' is not an ISO-8601 time"),
        (
            {"primary": "quality", "start_at": "2026-02-01", "end_at": "2026-01-01"},
            r"end_at \(2026-01-01 00:00:00\) must be after start_at",
        ),
    ],
)
def test_bad_options_are_refused_with_the_rule(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        define("x", "control=50,candidate=50", **options)


@pytest.mark.parametrize("name", ["", " padded", "tab\tname", "x" * 201])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="experiment name"):
        define(name, "a=50,b=50", primary="quality")


def test_scores_are_metrics_by_name() -> None:
    d = define("x", "a=50,b=50", primary="score:helpfulness", guards="score:toxicity")
    assert d.metrics == ("score:helpfulness", "score:toxicity")


def test_the_api_document_round_trips_and_unknown_fields_are_refused() -> None:
    d = define("x", {"a": 25, "b": 75}, primary="quality", guards=["cost"], unit="attribute:account")
    again = from_document({k: v for k, v in d.document().items() if k not in _STATE})
    assert again.split() == {"a": 25.0, "b": 75.0} and again.guards == ("cost",)
    assert again.unit == "attribute:account"
    with pytest.raises(ConfigError, match="unknown field colour"):
        from_document({"name": "x", "variants": {"a": 50, "b": 50}, "primary": "quality", "colour": 1})
    with pytest.raises(ConfigError, match="field 'primary' is required"):
        from_document({"name": "x", "variants": {"a": 50, "b": 50}})
    with pytest.raises(ConfigError, match="must be a JSON object"):
        from_document(["x"])


_STATE = {"status", "created_at", "updated_at"}


def test_start_and_stop_follow_draft_running_stopped() -> None:
    d = define("x", "a=50,b=50", primary="quality")
    at = dt.datetime(2026, 3, 1, 12, 0, 0)
    running = d.started(at)
    assert running.status == RUNNING and running.start_at == at and running.updated_at > d.updated_at
    with pytest.raises(ConfigError, match="is running; only a draft can start"):
        running.started()
    with pytest.raises(ConfigError, match="only a running experiment can stop"):
        d.stopped()
    with pytest.raises(ConfigError, match="cannot stop before it started"):
        running.stopped(at - dt.timedelta(seconds=1))
    stopped = running.stopped(at + dt.timedelta(hours=1))
    assert stopped.status == STOPPED and stopped.end_at == at + dt.timedelta(hours=1)


def test_parse_variants_accepts_spaces_and_decimals() -> None:
    assert parse_variants(" a = 33.5, b=66.5 ") == [("a", 33.5), ("b", 66.5)]


def test_critical_values_match_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for level in (0.8, 0.9, 0.95, 0.99):
        assert abs(z_two_sided(level) - stats.norm.ppf((1 + level) / 2)) < 1e-12
        assert abs(z_one_sided(level) - stats.norm.ppf(level)) < 1e-12
        for df in (1, 2, 3, 7.5, 30, 199, 1000):
            assert abs(t_two_sided(level, df) - stats.t.ppf((1 + level) / 2, df)) < 1e-9
