"""Experiment statistics computed by schemas/jobs/experiments/evaluate.sql on real chDB, checked
against SciPy on the same generated data, and the verdicts they lead to."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from experiment_units import START, Unit, write_units
from spanhouse.collector.experiments import define, evaluate
from spanhouse.collector.experiments.definition import EXPERIMENTS_COLUMNS, Definition
from spanhouse.collector.experiments.evaluation import CONFIDENCE, SEQUENTIAL_BURN_IN, SEQUENTIAL_TAU
from spanhouse.collector.experiments.registry import Experiments
from spanhouse.collector.readpath import ReadPath
from spanhouse.collector.store import ClickHouseStore, open_store
from spanhouse.instrumentation import experiment

LATER = START + dt.timedelta(days=30)
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    handle = open_store(data_dir=tmp_path_factory.mktemp("experiments") / "data")
    handle.migrate()
    handle.read_path = ReadPath.for_store(handle)  # type: ignore[attr-defined]
    yield handle
    handle.read_path.close()  # type: ignore[attr-defined]
    handle.close()


def reader_of(store: ClickHouseStore, tenant: str | None = None):
    """The API's read path: every tenant (operator), or one tenant's views only."""
    read_path = store.read_path  # type: ignore[attr-defined]
    return read_path.operator() if tenant is None else read_path.tenant(tenant)


def create(store: ClickHouseStore, definition: Definition, tenant: str = "") -> Experiments:
    experiments = Experiments(reader_of(store, tenant or None), store, tenant)
    experiments.create(definition)
    return experiments


def rows_by(evaluation) -> dict[tuple[str, str], dict]:
    return {(r["metric"], r["variant"]): r for r in evaluation.rows}


def assert_close(actual: float | None, expected: float, what: str) -> None:
    assert actual is not None, what
    assert abs(actual - expected) <= TOLERANCE, f"{what}: {actual!r} != {expected!r}"
    assert abs(actual - expected) <= TOLERANCE * max(abs(expected), 1.0), (
        f"{what}: {actual!r} != {expected!r}"
    )


def three_arm_units(rng: np.random.Generator) -> list[Unit]:
    """Control and two candidates, every metric with its own shape: normal quality, integer
    helpfulness scores (ties), skewed durations and costs, integer tokens (ties), failures."""
    units = []
    shift = {"control": 0.0, "short": 0.04, "long": -0.01}
    failure = {"control": 0.2, "short": 0.12, "long": 0.25}
    for i in range(420):
        variant = ("control", "short", "long")[int(rng.integers(0, 3))]
        units.append(
            Unit(
                i,
                variant,
                duration_ns=int(rng.lognormal(20.0 + shift[variant], 0.6)),
                failed=bool(rng.random() < failure[variant]),
                tokens=int(rng.integers(20, 60)) * 10,
                cost=float(rng.gamma(2.0, 0.01 * (1 + shift[variant]))),
                quality=float(rng.normal(0.7 + shift[variant], 0.12)),
                scores={"helpfulness": float(rng.integers(1, 6))},
            )
        )
    return units


def values(units: list[Unit], variant: str, metric: str) -> np.ndarray:
    return np.array([u.value(metric) for u in units if u.variant == variant], dtype=float)


def test_every_p_value_and_interval_equals_scipys(store: ClickHouseStore) -> None:
    units = three_arm_units(np.random.default_rng(20260105))
    write_units(store, "scipy-check", units)
    definition = define(
        "scipy-check",
        {"control": 34, "short": 33, "long": 33},
        primary="quality",
        metrics=["success_rate", "duration", "total_tokens", "cost", "score:helpfulness"],
        sequential=False,
        min_sample=50,
    )
    experiments = create(store, definition)
    evaluation = experiments.results("scipy-check", as_of=LATER)
    got = rows_by(evaluation)
    z = stats.norm.ppf((1 + CONFIDENCE) / 2)
    assert {m for m, _ in got} == set(definition.metrics)

    for metric in definition.metrics:
        for variant in definition.variants:
            row = got[(metric, variant)]
            x = values(units, variant, metric)
            assert row["n"] == row["units"] == len(x)
            assert_close(row["mean"], x.mean(), f"{metric}/{variant} mean")
            assert_close(row["sd"], x.std(ddof=1), f"{metric}/{variant} sd")
            if metric == "success_rate":
                assert row["test"] == "z_test"
                wilson = stats.binomtest(int(x.sum()), len(x)).proportion_ci(CONFIDENCE, method="wilson")
                low, high = wilson.low, wilson.high
            else:
                low, high = stats.t.interval(CONFIDENCE, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
            assert_close(row["ci_low"], low, f"{metric}/{variant} ci_low")
            assert_close(row["ci_high"], high, f"{metric}/{variant} ci_high")
            if variant == "control":
                assert row["p_value"] is None and row["diff"] is None
                continue
            c = values(units, "control", metric)
            assert_close(row["diff"], x.mean() - c.mean(), f"{metric}/{variant} diff")
            if metric == "success_rate":
                p1, p2, n1, n2 = x.mean(), c.mean(), len(x), len(c)
                pooled = (x.sum() + c.sum()) / (n1 + n2)
                z_stat = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
                expected_p = 2 * stats.norm.sf(abs(z_stat))
                se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
                diff_low, diff_high = p1 - p2 - z * se, p1 - p2 + z * se
            else:
                welch = stats.ttest_ind(x, c, equal_var=False)
                interval = welch.confidence_interval(CONFIDENCE)
                diff_low, diff_high = interval.low, interval.high
                if metric in ("duration", "total_tokens", "cost"):
                    assert row["test"] == "mann_whitney_u"
                    expected_p = stats.mannwhitneyu(x, c, method="asymptotic").pvalue
                else:
                    assert row["test"] == "welch_t"
                    expected_p = welch.pvalue
            assert row["p_value_kind"] == "fixed_horizon"
            assert_close(row["p_fixed_horizon"], expected_p, f"{metric}/{variant} p")
            assert_close(row["p_value"], expected_p, f"{metric}/{variant} p")
            assert_close(row["diff_ci_low"], diff_low, f"{metric}/{variant} diff_ci_low")
            assert_close(row["diff_ci_high"], diff_high, f"{metric}/{variant} diff_ci_high")
            rel = x.mean() / c.mean() - 1
            rel_se = math.sqrt(
                x.var(ddof=1) / (len(x) * c.mean() ** 2)
                + x.mean() ** 2 * c.var(ddof=1) / (len(c) * c.mean() ** 4)
            )
            assert_close(row["rel_diff"], rel, f"{metric}/{variant} rel_diff")
            assert_close(row["rel_diff_ci_low"], rel - z * rel_se, f"{metric}/{variant} rel low")
            assert_close(row["rel_diff_ci_high"], rel + z * rel_se, f"{metric}/{variant} rel high")

    # Holm across variants x metrics, by hand
    tested = sorted(
        (r["p_value"], r["metric"], r["variant"]) for r in evaluation.rows if r["p_value"] is not None
    )
    m, running = len(tested), 0.0
    assert m == 2 * len(definition.metrics)
    for rank, (p, metric, variant) in enumerate(tested, start=1):
        running = max(running, min(1.0, (m - rank + 1) * p))
        assert_close(got[(metric, variant)]["p_adjusted"], running, f"{metric}/{variant} holm")

    # sample-ratio mismatch: chi-square of the observed split against 34/33/33
    observed = [len(values(units, v, "quality")) for v in definition.variants]
    expected = [sum(observed) * w / 100 for w in definition.weights]
    chi2 = stats.chisquare(observed, f_exp=expected)
    assert_close(evaluation.verdict.srm_p, chi2.pvalue, "srm p")
    assert_close(evaluation.rows[0]["srm_chi2"], chi2.statistic, "srm chi2")


@pytest.mark.parametrize("variants", [2, 3, 4, 5, 6])
def test_srm_p_value_equals_scipys_for_every_number_of_variants(
    store: ClickHouseStore, variants: int
) -> None:
    """Odd and even degrees of freedom take different closed forms of the chi-square tail."""
    rng = np.random.default_rng(variants)
    names = [f"v{i}" for i in range(variants)]
    weights = [100 / variants] * variants
    weights[-1] = 100 - sum(weights[:-1])
    skew = np.linspace(1.0, 1.3, variants)
    chosen = rng.choice(variants, size=300, p=skew / skew.sum())
    units = [Unit(i, names[k], quality=float(rng.random())) for i, k in enumerate(chosen)]
    name = f"srm-{variants}"
    write_units(store, name, units)
    evaluation = create(
        store, define(name, dict(zip(names, weights, strict=True)), primary="quality", control="v0")
    ).results(name, as_of=LATER)
    observed = [int((chosen == k).sum()) for k in range(variants)]
    expected = stats.chisquare(observed, f_exp=[300 * w / 100 for w in weights])
    assert_close(evaluation.verdict.srm_p, expected.pvalue, f"srm p, {variants} variants")


def test_the_always_valid_p_value_is_the_running_minimum_of_the_msprt(store: ClickHouseStore) -> None:
    rng = np.random.default_rng(5)
    units = [Unit(i, "control" if rng.random() < 0.5 else "candidate", quality=float(rng.normal(0.5, 0.2)))
             for i in range(300)]  # fmt: skip
    write_units(store, "msprt", units)
    evaluation = create(store, define("msprt", "control=50,candidate=50", primary="quality")).results(
        "msprt", as_of=LATER
    )
    row = rows_by(evaluation)[("quality", "candidate")]
    assert row["p_value_kind"] == "always_valid" and evaluation.verdict.p_value_kind == "always_valid"
    # the documented formula, prefix by prefix, in arrival order
    best = 1.0
    xs = {"candidate": [], "control": []}
    for unit in units:
        xs[unit.variant].append(unit.quality)
        n1, n2 = len(xs["candidate"]), len(xs["control"])
        if min(n1, n2) < SEQUENTIAL_BURN_IN:
            continue
        v1, v2 = np.var(xs["candidate"], ddof=1), np.var(xs["control"], ddof=1)
        var_d = v1 / n1 + v2 / n2
        tau2 = SEQUENTIAL_TAU**2 * (v1 + v2) / 2
        d = np.mean(xs["candidate"]) - np.mean(xs["control"])
        log_lambda = 0.5 * math.log(var_d / (var_d + tau2)) + tau2 * d * d / (2 * var_d * (var_d + tau2))
        best = min(best, math.exp(-log_lambda))
    assert_close(row["p_sequential"], best, "always-valid p")
    assert row["p_value"] == row["p_sequential"]
    assert row["p_fixed_horizon"] != row["p_value"]


def assigned_units(name: str, count: int, rng: np.random.Generator, **effects: float) -> list[Unit]:
    """Units assigned by the instrumentation's own hashing, 50/50; `effects` shift quality."""
    split = experiment(name, {"control": 0.5, "candidate": 0.5})
    units = []
    for i in range(count):
        variant = split.assign(f"user-{i}")
        units.append(
            Unit(
                i,
                variant,
                duration_ns=int(rng.lognormal(20, 0.5)),
                failed=bool(rng.random() < 0.2),
                tokens=int(rng.integers(100, 300)),
                quality=float(rng.normal(0.7 + effects.get(variant, 0.0), 0.1)),
            )
        )
    return units


def test_an_a_a_experiment_with_a_thousand_units_declares_no_winner(store: ClickHouseStore) -> None:
    units = assigned_units("aa-1000", 1000, np.random.default_rng(1000))
    write_units(store, "aa-1000", units)
    experiments = create(
        store,
        define("aa-1000", "control=50,candidate=50", primary="quality", guards="cost,duration",
               metrics="success_rate,total_tokens"),
    )  # fmt: skip
    verdict = experiments.results("aa-1000", as_of=LATER).verdict
    assert verdict.winner is None and verdict.status == "no_winner_yet"
    assert not verdict.srm_flagged and verdict.min_sample_reached
    assert any("no variant is significantly better" in reason for reason in verdict.reasons), verdict.reasons
    assert "per variant to detect" in verdict.power_line or "large enough" in verdict.power_line


def test_a_70_30_split_configured_as_50_50_is_flagged_and_blocks_the_winner(store: ClickHouseStore) -> None:
    rng = np.random.default_rng(7030)
    units = [
        Unit(i, variant, quality=float(rng.normal(0.8 if variant == "candidate" else 0.6, 0.1)))
        for i, variant in enumerate("control" if rng.random() < 0.7 else "candidate" for _ in range(1000))
    ]
    write_units(store, "split-7030", units)
    verdict = (
        create(store, define("split-7030", "control=50,candidate=50", primary="quality"))
        .results("split-7030", as_of=LATER)
        .verdict
    )
    assert verdict.srm_flagged and verdict.srm_p is not None and verdict.srm_p < 0.001
    assert verdict.winner is None
    assert any(reason.startswith("sample ratio mismatch") for reason in verdict.reasons), verdict.reasons
    # the same units under the split they really had: the candidate wins, so SRM was the blocker
    write_units(store, "split-7030-true", units)
    fair = (
        create(store, define("split-7030-true", "control=70,candidate=30", primary="quality"))
        .results("split-7030-true", as_of=LATER)
        .verdict
    )
    assert not fair.srm_flagged and fair.winner == "candidate"


def test_a_real_improvement_wins_unless_a_guard_is_significantly_worse(store: ClickHouseStore) -> None:
    rng = np.random.default_rng(42)
    units = [
        dataclasses.replace(u, cost=0.02 if u.variant == "candidate" else 0.01 + float(rng.random()) * 1e-4)
        for u in assigned_units("guarded", 600, rng, candidate=0.05)
    ]
    write_units(store, "guarded", units)
    write_units(store, "unguarded", units)
    free = create(store, define("unguarded", "control=50,candidate=50", primary="quality"))
    assert free.results("unguarded", as_of=LATER).verdict.winner == "candidate"
    guarded = create(store, define("guarded", "control=50,candidate=50", primary="quality", guards="cost"))
    verdict = guarded.results("guarded", as_of=LATER).verdict
    assert verdict.winner is None
    assert any("significantly worse on guard cost" in reason for reason in verdict.reasons), verdict.reasons


def test_metrics_that_are_zero_everywhere_have_no_test_and_the_rest_is_evaluated(
    store: ClickHouseStore,
) -> None:
    """Unpriced models (cost 0), runs without model calls (tokens 0), every run failed
    (success 0): nothing to compare, but the primary metric is still judged."""
    units = [
        dataclasses.replace(u, tokens=0, cost=0.0, failed=True)
        for u in assigned_units("all-zero", 200, np.random.default_rng(15), candidate=0.1)
    ]
    write_units(store, "all-zero", units)
    experiments = create(
        store,
        define("all-zero", "control=50,candidate=50", primary="quality", guards="cost",
               metrics="success_rate,total_tokens", min_sample=20),
    )  # fmt: skip
    evaluation = experiments.results("all-zero", as_of=LATER)
    got = rows_by(evaluation)
    for metric in ("cost", "total_tokens", "success_rate"):
        assert got[(metric, "candidate")]["mean"] == 0.0
        assert got[(metric, "candidate")]["n"] == sum(u.variant == "candidate" for u in units)
    for metric in ("cost", "total_tokens"):
        assert got[(metric, "candidate")]["diff"] == 0.0
        assert got[(metric, "candidate")]["diff_ci_low"] is None  # no Welch interval of nothing
    assert got[("quality", "candidate")]["p_value"] is not None
    assert evaluation.verdict.winner == "candidate", evaluation.verdict.reasons


def test_the_minimum_sample_blocks_an_early_winner(store: ClickHouseStore) -> None:
    units = assigned_units("early", 120, np.random.default_rng(3), candidate=0.2)
    write_units(store, "early", units)
    experiments = create(store, define("early", "control=50,candidate=50", primary="quality", min_sample=100))
    verdict = experiments.results("early", as_of=LATER).verdict
    assert verdict.winner is None and not verdict.min_sample_reached
    assert any(reason.startswith("minimum sample not reached") for reason in verdict.reasons), verdict.reasons
    assert "more runs per variant" in verdict.power_line or "large enough" in verdict.power_line


def test_peeking_every_50_units_keeps_the_sequential_false_winner_rate_within_alpha(
    store: ClickHouseStore,
) -> None:
    """A/A experiments looked at every 50 units: the always-valid p-value declares a false winner
    in at most alpha of them; the fixed-horizon p-value, peeked at the same way, in more."""
    simulations, units_each, alpha = 80, 500, 0.05
    rng = np.random.default_rng(50)
    definitions = []
    for s in range(simulations):
        name = f"peek-{s}"
        units = [Unit(i, "control" if rng.random() < 0.5 else "candidate", quality=float(rng.normal(0.7, 0.1)))
                 for i in range(units_each)]  # fmt: skip
        write_units(store, name, units, tenant="peeking")
        definitions.append(
            define(name, "control=50,candidate=50", primary="quality", min_sample=50, alpha=alpha)
        )
    store.insert(
        "experiments",
        [list(c) for c in zip(*(d.row("peeking") for d in definitions), strict=True)],
        EXPERIMENTS_COLUMNS,
    )
    sequential_winners: set[str] = set()
    fixed_winners: set[str] = set()
    reader = reader_of(store, "peeking")
    for seen in range(50, units_each + 1, 50):
        as_of = START + dt.timedelta(seconds=seen)  # units 0 .. seen-1 have started
        for evaluation in evaluate(reader, "peeking", definitions, as_of):
            [row] = [r for r in evaluation.rows if not r["is_control"]]
            assert row["units"] + rows_by(evaluation)[("quality", "control")]["units"] == seen
            if evaluation.verdict.winner is not None:
                sequential_winners.add(evaluation.definition.name)
            enough = evaluation.verdict.min_sample_reached and not evaluation.verdict.srm_flagged
            if enough and row["p_fixed_horizon"] is not None and row["p_fixed_horizon"] < alpha:
                fixed_winners.add(evaluation.definition.name)
    assert len(sequential_winners) / simulations <= alpha, sorted(sequential_winners)
    assert len(fixed_winners) / simulations > alpha, sorted(fixed_winners)


def test_user_units_average_their_runs_and_rates_use_welch(store: ClickHouseStore) -> None:
    rng = np.random.default_rng(9)
    units = []
    for i in range(240):
        user = f"u{i % 60}"
        variant = "control" if (i % 60) < 30 else "candidate"
        units.append(
            Unit(i, variant, user=user, failed=bool(rng.random() < 0.3), quality=float(rng.random()))
        )
    write_units(store, "by-user", units)
    experiments = create(
        store, define("by-user", "control=50,candidate=50", primary="success_rate", unit="user", min_sample=2)
    )
    got = rows_by(experiments.results("by-user", as_of=LATER))
    per_user: dict[str, list[float]] = {}
    for u in units:
        per_user.setdefault(u.user, []).append(0.0 if u.failed else 1.0)

    def user_means(control: bool) -> np.ndarray:
        return np.array([np.mean(r) for user, r in per_user.items() if (int(user[1:]) < 30) == control])

    means = {"control": user_means(True), "candidate": user_means(False)}
    row = got[("success_rate", "candidate")]
    assert row["units"] == 30 and row["test"] == "welch_t"
    assert_close(row["mean"], means["candidate"].mean(), "user mean")
    assert_close(
        row["p_fixed_horizon"],
        stats.ttest_ind(means["candidate"], means["control"], equal_var=False).pvalue,
        "p",
    )


def test_attribute_units_mixed_and_unknown_units(store: ClickHouseStore) -> None:
    units = [Unit(i, "control" if i % 2 else "candidate", attributes={"account": f"a{i}"}, quality=0.5 + i / 100)
             for i in range(20)]  # fmt: skip
    units += [
        Unit(20, "control", attributes={"account": "a0"}, quality=0.5),  # a0 saw both variants
        Unit(21, "typo", attributes={"account": "a21"}, quality=0.5),  # a variant not defined
        Unit(22, "control", quality=0.5),  # no unit id at all
    ]
    write_units(store, "by-attribute", units)
    experiments = create(
        store,
        define(
            "by-attribute",
            "control=50,candidate=50",
            primary="quality",
            unit="attribute:account",
            min_sample=2,
        ),
    )
    evaluation = experiments.results("by-attribute", as_of=LATER)
    got = rows_by(evaluation)
    assert got[("quality", "control")]["units"] == 10 and got[("quality", "candidate")]["units"] == 9
    assert evaluation.rows[0]["mixed_units"] == 1 and evaluation.rows[0]["unknown_variant_units"] == 1
    assert "1 unit(s) recorded more than one variant and were left out" in evaluation.verdict.notes


def test_only_finished_runs_inside_the_window_count(store: ClickHouseStore) -> None:
    units = [Unit(i, "control" if i % 2 else "candidate", quality=0.5) for i in range(40)]
    write_units(store, "window", units)
    experiments = create(
        store,
        define("window", "control=50,candidate=50", primary="quality", start_at=START + dt.timedelta(seconds=10),
               end_at=START + dt.timedelta(seconds=30)),
    )  # fmt: skip
    got = rows_by(experiments.results("window", as_of=LATER))
    assert got[("quality", "control")]["units"] + got[("quality", "candidate")]["units"] == 20
    early = rows_by(experiments.results("window", as_of=START + dt.timedelta(seconds=15)))
    assert early[("quality", "control")]["units"] + early[("quality", "candidate")]["units"] == 5


def test_evaluations_are_stored_and_their_history_read_back(store: ClickHouseStore) -> None:
    units = assigned_units("history", 400, np.random.default_rng(4), candidate=0.1)
    write_units(store, "history", units[:100])
    experiments = create(store, define("history", "control=50,candidate=50", primary="quality"))
    definition = experiments.get("history")
    [first] = experiments.evaluate([definition], as_of=LATER)
    write_units(store, "history", units[100:])
    [second] = experiments.evaluate([definition], as_of=LATER + dt.timedelta(hours=1))
    assert first.verdict.winner is None and second.verdict.winner == "candidate"
    history = experiments.history("history").dicts()
    assert [h["verdict"] for h in history] == ["winner", "no_winner_yet"]
    assert history[0]["winner"] == "candidate" and history[0]["p_value_kind"] == "always_valid"
    assert history[1]["reasons"] == list(first.verdict.reasons)
    stored = store.query(
        "SELECT count() FROM experiment_results WHERE Experiment = 'history' AND Tenant = ''"
    ).rows[0][0]
    assert stored == 2 * len(first.rows)


def test_a_tenant_evaluates_its_own_units_only(store: ClickHouseStore, tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    write_units(store, "shared-name", assigned_units("shared-name", 100, rng), tenant="tenant-a")
    write_units(store, "shared-name", assigned_units("shared-name", 40, rng), tenant="tenant-b")
    a = create(store, define("shared-name", "control=50,candidate=50", primary="quality"), tenant="tenant-a")
    b = create(store, define("shared-name", "control=50,candidate=50", primary="quality", min_sample=7),
               tenant="tenant-b")  # fmt: skip
    assert a.get("shared-name").min_sample == 100 and b.get("shared-name").min_sample == 7
    count = {e.tenant: sum(r["units"] for r in e.results("shared-name", as_of=LATER).rows if r["metric"] == "quality")
             for e in (a, b)}  # fmt: skip
    assert count == {"tenant-a": 100, "tenant-b": 40}


class RecordingSink:
    def __init__(self) -> None:
        self.alerts: list = []

    def send(self, alerts) -> None:
        self.alerts.extend(alerts)


def test_the_scheduled_evaluation_stores_every_running_experiment_and_alerts_on_changes(
    store: ClickHouseStore,
) -> None:
    from spanhouse.collector.experiments.alerts import SRM_FLAGGED, WINNER_FOUND
    from spanhouse.collector.experiments.schedule import evaluate_running

    rng = np.random.default_rng(77)
    write_units(store, "sched-win", assigned_units("sched-win", 300, rng, candidate=0.1), tenant="sched")
    skewed = [Unit(i, "control" if rng.random() < 0.75 else "candidate", quality=0.5) for i in range(400)]
    write_units(store, "sched-srm", skewed, tenant="sched")
    for name in ("sched-win", "sched-srm", "sched-draft"):
        create(store, define(name, "control=50,candidate=50", primary="quality"), tenant="sched")
    experiments = Experiments(reader_of(store, "sched"), store, "sched")
    experiments.start("sched-win", START)
    experiments.start("sched-srm", START)
    sink = RecordingSink()
    evaluated = evaluate_running(store, as_of=LATER, sink=sink)
    assert {(e.definition.name) for e in evaluated} >= {"sched-win", "sched-srm"}
    assert "sched-draft" not in {e.definition.name for e in evaluated}
    kinds = {(a.experiment, a.kind) for a in sink.alerts if a.tenant == "sched"}
    assert kinds == {("sched-win", WINNER_FOUND), ("sched-srm", SRM_FLAGGED)}
    winner = next(a for a in sink.alerts if a.kind == WINNER_FOUND and a.tenant == "sched")
    assert (
        "candidate wins on quality" in winner.message
        and winner.dedup_key == "experiment_winner_found/sched/sched-win/candidate"
    )
    # the same verdicts again: stored once more, no new alert
    again = RecordingSink()
    evaluate_running(store, as_of=LATER + dt.timedelta(minutes=5), sink=again)
    assert [a for a in again.alerts if a.tenant == "sched"] == []
    assert [h["verdict"] for h in experiments.history("sched-win").dicts()] == ["winner", "winner"]
    assert experiments.history("sched-draft").rows == []


class RecordingService:
    """Stands in for the collector's alert service at its one-method seam (fire_external)."""

    def __init__(self) -> None:
        self.conditions: list = []

    def fire_external(self, conditions) -> None:
        self.conditions.extend(conditions)


def test_experiment_alerts_go_to_the_alert_service_when_there_is_one(
    store: ClickHouseStore, caplog: pytest.LogCaptureFixture
) -> None:
    from spanhouse.collector.experiments import alerts

    reader = reader_of(store)
    service = RecordingService()
    assert isinstance(alerts.alert_sink(reader), alerts.DroppingSink)
    sink = alerts.alert_sink(reader, service)
    assert isinstance(sink, alerts.ServiceSink)
    alert = alerts.ExperimentAlert(
        "t", "exp", alerts.WINNER_FOUND, "experiment 'exp': b wins", LATER,
        f"{alerts.WINNER_FOUND}/t/exp/b", f"{alerts.WINNER_FOUND}/t/exp",
    )  # fmt: skip
    sink.send([alert])
    [condition] = service.conditions
    assert (condition.tenant, condition.kind, condition.dedup_key) == (
        "t",
        alerts.WINNER_FOUND,
        alert.dedup_key,
    )
    assert condition.subject == "exp" and condition.labels == {"experiment": "exp"}
    store.command("RENAME TABLE alerts TO alerts_aside")
    try:
        with caplog.at_level("WARNING", logger=alerts.__name__):
            assert isinstance(alerts.alert_sink(reader, service), alerts.DroppingSink)
        assert "the store has no alerts table" in caplog.text
    finally:
        store.command("RENAME TABLE alerts_aside TO alerts")
