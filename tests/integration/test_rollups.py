"""The rollups against the steps on a generated workload, in a real chDB store.

The run reports (overview, executions, benchmarks) read agent_runs_resolved: the agent_runs rollup
where it is exact, the steps elsewhere; the cost reports read agent_costs_resolved, and the steps
report agent_step_groups_resolved with its runs per group from agent_runs_resolved, and the
recommendations report agent_model_calls_resolved beside agent_runs_resolved. Here they must give
what the same reports computed from the steps alone give (tests/integration/raw_reports/*.sql: the reports as they were before the
rollup) on a workload with stamped runs inserted in several blocks, runs of other conventions
resolved by the attribution job (two of them under stamped runs) or not yet resolved, spans
delivered twice, runs across two services, ranges that cut runs, a replayed WAL batch and a
re-price. The steps-only reports count a span delivered twice once only after agent_steps merged
its copies (OPTIMIZE FINAL), so they run after that; the rollup's answer must not depend on it.
The errors report reads the failed steps from agent_failures (a materialized copy of them) and is
held to the same.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spanhouse.collector.budgets.model import parse_budget
from spanhouse.collector.budgets.store import budget_status
from spanhouse.collector.jobs.attribution import Attribution, AttributionSettings
from spanhouse.collector.prices.book import PriceRow
from spanhouse.collector.prices.store import reprice, write_rows
from spanhouse.collector.processors.genai import AGENT_STEPS_COLUMNS
from spanhouse.collector.readpath.reader import ReadPath
from spanhouse.collector.reports import VARIANTS, report_parameters, report_query, run_report
from spanhouse.collector.store import Store, load_job, open_store
from spanhouse.collector.store.migrations import steps

RAW = Path(__file__).parent / "raw_reports"
REPORTS = (
    "overview",
    "executions",
    "benchmarks",
    "costs",
    "cost_trends",
    "projection",
    "errors",
    "recommendations",
    "steps",
)
# Each report also with options of its own: buckets in zones whose offsets are not whole hours.
EXTRA: dict[str, tuple[dict[str, Any], ...]] = {
    "executions": ({"limit": 1000},),
    # With these the runaway check finds some runs, and every model, step and price group counts.
    "recommendations": ({}, {"min_samples": 0, "runaway_factor": 1.1}),
    "costs": (
        {},
        {"by": "model,agent,variant,day", "timezone": "Asia/Kathmandu"},
        {"by": "service,provider,step_kind,hour", "timezone": "Asia/Kolkata"},
    ),
    "cost_trends": (
        {},
        {"bucket": "hour", "by": "agent,model"},
        {"bucket": "week", "timezone": "America/St_Johns"},
    ),
}
T0 = dt.datetime(2026, 11, 2, 8, 0)
LIVE = AttributionSettings(settle_s=0.0, lateness_s=3600.0)
AGENTS = ("planner", "researcher", "writer")
# gpt-4o's calls carry this PriceId (two versions: recommendations prices with the latest), with a
# low output price, so that some of them are input-heavy and could use the cache.
LIST_PRICES = [
    PriceRow("test-list", "test", ("openai",), "^gpt-4o$", dt.datetime(2026, 1, 1), 2.0, 0.5, cached_input_mtok=1.0),
    PriceRow("test-list", "test", ("openai",), "^gpt-4o$", dt.datetime(2026, 6, 1), 2.5, 0.5, cached_input_mtok=1.25),
]
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-x")


def _ns(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=dt.timezone.utc).timestamp() * 1e9)


def _row(**fields: Any) -> list:
    values = dict.fromkeys(AGENT_STEPS_COLUMNS, "")
    values.update(
        Tenant="t",
        InputTokens=0,
        CachedInputTokens=0,
        CacheWriteTokens=0,
        OutputTokens=0,
        ReasoningTokens=0,
        CostUSD=None,
        ReportedCostUSD=None,
        QualityScore=None,
        Confidence=None,
        Attributes={},
        IsModelCall=False,
        ServiceName="svc-a",
        StatusCode="Ok",
    )
    values.update(fields)
    return [values[c] for c in AGENT_STEPS_COLUMNS]


class Workload:
    """Rows of agent_steps, generated from a fixed seed."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.rows: list[list] = []
        self.stamped_spans: list[list] = []
        self.run_starts: list[dt.datetime] = []

    def _step(self, trace: str, span: str, parent: str, run: str, start: dt.datetime, **fields: Any) -> list:
        r = self.random
        kind = fields.pop("kind")
        llm = kind == "llm"
        model = r.choice(MODELS)
        input_tokens = r.randint(100, 3000) if llm else 0
        output_tokens = r.randint(10, 800) if llm else 0
        cached_tokens = r.randint(0, 100) if llm else 0
        reasoning_tokens = r.choice((0, 0, 50)) if llm else 0
        reported_cost = r.choice((None, None, 0.002)) if llm else None
        experiment = "exp" if llm and r.random() < 0.3 else ""
        # A call with no cost has no PriceId either, so gpt-4o's groups mix priced and unpriced calls.
        cost = (None if r.random() < 0.15 else (input_tokens + 4 * output_tokens) * 1e-7) if llm else None
        row = _row(
            TraceId=trace,
            SpanId=span,
            ParentSpanId=parent,
            RunId=run,
            Timestamp=_ns(start),
            StepKind=kind,
            IsModelCall=llm,
            Provider="openai" if llm else "",
            RequestModel=model if llm else "",
            ResponseModel=model if llm else "",
            InputTokens=input_tokens,
            CachedInputTokens=cached_tokens,
            OutputTokens=output_tokens,
            ReasoningTokens=reasoning_tokens,
            ReportedCostUSD=reported_cost,
            ExperimentId=experiment,
            PriceId=LIST_PRICES[0].price_id if model == "gpt-4o" and cost is not None else "",
            # A few model calls scored on their own (the others take their run's mean quality).
            QualityScore=(output_tokens % 1000) / 1000 if llm and input_tokens % 7 == 0 else None,
            CostUSD=cost,
            DurationMs=float(r.randint(50, 4000)),
            Variant="",
            StatusCode="Error" if r.random() < 0.12 else "Ok",
            **fields,
        )
        if row[AGENT_STEPS_COLUMNS.index("ExperimentId")]:
            row[AGENT_STEPS_COLUMNS.index("Variant")] = r.choice(("control", "candidate"))
        if row[AGENT_STEPS_COLUMNS.index("StatusCode")] == "Error":
            row[AGENT_STEPS_COLUMNS.index("ErrorType")] = r.choice(("timeout_error", "tool_error"))
        return row

    def stamped_run(self, n: int, start: dt.datetime, *, finished: bool, two_services: bool) -> None:
        r = self.random
        trace, run = f"{n:032x}", f"{n:016x}"
        agent = r.choice(AGENTS)
        stamp = {"SourceConvention": "spanhouse", "AgentName": agent}
        rows = []
        if finished:
            root = self._step(trace, run, "", run, start, kind="agent", **stamp)
            root[AGENT_STEPS_COLUMNS.index("DurationMs")] = float(r.randint(5_000, 40_000))
            root[AGENT_STEPS_COLUMNS.index("QualityScore")] = round(r.random(), 3)
            root[AGENT_STEPS_COLUMNS.index("Confidence")] = round(r.random(), 3)
            rows.append(root)
        if r.random() < 0.3:  # a sub-agent
            rows.append(self._step(trace, f"{n:08x}a0a0a0a0", run, run, start, kind="agent",
                                   SourceConvention="spanhouse", AgentName=r.choice(AGENTS)))  # fmt: skip
        for k in range(r.randint(1, 7)):
            at = start + dt.timedelta(seconds=2 * (k + 1))
            service = "svc-b" if two_services and k % 2 else "svc-a"
            kind = r.choice(("llm", "llm", "tool"))
            # Two tools, so a run's failed call of one can be followed by a call of the other.
            tool = {"StepName": ("search", "fetch")[k % 2]} if kind == "tool" else {}
            rows.append(
                self._step(trace, f"{n:08x}{k:08x}", run, run, at, kind=kind, ServiceName=service, **stamp, **tool)
            )
        self.stamped_spans.extend(rows)
        self.rows.extend(rows)
        self.run_starts.append(start)

    def unstamped_run(self, n: int, start: dt.datetime) -> None:
        """Spans of another library: only the agent span names the agent; the job resolves the rest.
        Every other such run's agent span carries no run id of its own (the trace's, as most
        libraries' spans arrive), so only the job marks it as its run's span."""
        trace, agent_span = f"{n:032x}", f"{n:016x}"
        other = {"SourceConvention": "otel_genai"}
        root_run = trace if n % 12 == 0 else agent_span
        rows = [self._step(trace, agent_span, "", root_run, start, kind="agent",
                           AgentName=self.random.choice(AGENTS), **other)]  # fmt: skip
        for k in range(self.random.randint(1, 4)):
            at = start + dt.timedelta(seconds=k + 1)
            rows.append(self._step(trace, f"{n:08x}{k:08x}", agent_span, trace, at, kind="llm", **other))
        self.rows.extend(rows)
        self.run_starts.append(start)

    def remote_step_under(self, stamped: list) -> list:
        """A span of another library inside a stamped run's trace: the job puts it in that run."""
        trace = stamped[AGENT_STEPS_COLUMNS.index("TraceId")]
        parent = stamped[AGENT_STEPS_COLUMNS.index("SpanId")]
        start = stamped[AGENT_STEPS_COLUMNS.index("Timestamp")] + 500_000_000
        row = self._step(trace, "f" * 16, parent, trace, T0, kind="llm", SourceConvention="otel_genai")
        row[AGENT_STEPS_COLUMNS.index("Timestamp")] = start
        self.rows.append(row)
        return row

    def whole_stamped_run(self, copied: list[list]) -> list:
        """A span of a stamped run the rollup holds whole: none of its spans copied, one service,
        and inside every range the cases cut (runs 40-69)."""
        run_id, service = AGENT_STEPS_COLUMNS.index("RunId"), AGENT_STEPS_COLUMNS.index("ServiceName")
        copied_runs = {row[run_id] for row in copied}
        for n in range(40, 70):
            rows = [row for row in self.stamped_spans if row[run_id] == f"{n:016x}"]
            if rows and rows[0][run_id] not in copied_runs and len({row[service] for row in rows}) == 1:
                return rows[0]
        raise AssertionError("the seed gave no whole stamped run")


def insert(store: Store, rows: list[list], **kwargs: Any) -> None:
    store.insert("agent_steps", [list(c) for c in zip(*rows, strict=True)], AGENT_STEPS_COLUMNS, **kwargs)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # One chDB path per process: this module is the only in-process store user while it runs.
    opened = open_store(data_dir=Path(tmp_path_factory.mktemp("rollups")))
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def workload(store: Store) -> Workload:
    write_rows(store, LIST_PRICES)
    w = Workload(seed=16)
    for n in range(1, 121):
        start = T0 + dt.timedelta(minutes=7 * n)
        if n % 6 == 0:
            w.unstamped_run(n, start)
        else:
            w.stamped_run(n, start, finished=n % 11 != 0, two_services=n % 9 == 0)
    w.remote_step_under(w.stamped_spans[0])
    rows = list(w.rows)
    w.random.shuffle(rows)
    for k in range(5):  # a run's steps reach the rollup in several blocks
        insert(store, rows[k::5])
    copied = w.random.sample(w.stamped_spans, 12)
    insert(store, copied)  # delivered twice (a client's retry)
    insert(store, [w.rows[-2]])  # a span of another library, twice
    # Another library's span in a run the rollup would otherwise give whole: the run is
    # recomputed, its stamped steps with it.
    insert(store, [w.remote_step_under(w.whole_stamped_run(copied))])
    Attribution(LIVE)(store)
    # Another library's run the job has not resolved yet: its steps count under their own keys.
    unresolved = len(w.rows)
    w.unstamped_run(121, T0 + dt.timedelta(minutes=7 * 121))
    insert(store, w.rows[unresolved:])
    return w


# Reports with parts read from the steps alone, which count a span delivered twice once only with
# the read path's FINAL (or after a merge): they run with it, as every read through the read path does.
WITH_FINAL = frozenset({"recommendations", "steps"})


# The queries reports.VARIANTS asks before a report (which of its queries to run): a raw reader
# runs them as they are.
PROBES = frozenset(load_job(v.probe) for v in VARIANTS.values() if v.probe)


class _Reader:
    """The store as a report reader, with the read path's `final = 1` for the reports that need it,
    and optionally the raw (steps-only) form of the report's SQL."""

    def __init__(self, store: Store, name: str, *, raw: bool = False) -> None:
        self.store, self.name, self.raw = store, name, raw

    def query(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        if self.raw and sql not in PROBES:
            sql = (RAW / f"{self.name}.sql").read_text("utf-8")
        settings = {"final": 1} if self.name in WITH_FINAL else None
        return self.store.query(sql, params, settings=settings)


def _report(store: Store, name: str, parameters: dict[str, Any]) -> list[tuple]:
    return run_report(_Reader(store, name), name, parameters).rows


def _raw(store: Store, name: str, parameters: dict[str, Any]) -> list[tuple]:
    return run_report(_Reader(store, name, raw=True), name, parameters).rows


# Reports whose query on the rollups reports.VARIANTS may set aside for a steps-only one.
ROLLED = tuple(VARIANTS)
# Options under which each report finds something in a few runs.
FEW_RUNS: dict[str, dict[str, Any]] = {"recommendations": {"min_samples": 1, "runaway_factor": 1.1}}


def _rolled(store: Store, name: str, parameters: dict[str, Any]) -> list[tuple]:
    """A report's rollup query, whatever run_report would choose (this workload holds steps of
    other libraries, for which it reads the steps): it must be right on them too. Recommendations
    also reads model and tool calls from the steps, which count a copy once only under FINAL."""
    settings = {"final": 1} if name == "recommendations" else None

    def query(sql: str, params: dict[str, Any] | None) -> Any:
        return store.query(sql, params, settings=settings)

    return run_report(_Fixed(query, load_job(f"reports/{name}")), name, parameters).rows


class _Fixed:
    """A report reader that runs one given query as the report's (probes as asked), through `run`."""

    def __init__(self, run: Callable[[str, dict[str, Any] | None], Any], sql: str) -> None:
        self.run, self.sql = run, sql

    def query(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.run(sql if sql in PROBES else self.sql, params)


def _cases(w: Workload) -> list[dict[str, Any]]:
    cut_since = w.run_starts[20] + dt.timedelta(seconds=3)  # inside a run: its first steps fall out
    cut_until = w.run_starts[80] + dt.timedelta(seconds=5)
    return [
        {},
        {"since": cut_since, "until": cut_until},
        {"options": {"service": "svc-b"}},
        {"options": {"service": "svc-a", "agent": "planner"}},
        {"since": cut_since, "until": cut_until, "options": {"agent": "writer"}},
    ]


def _parameters(name: str, case: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    options = {**case.get("options", {}), **extra}
    return report_parameters(
        tenant="t", since=case.get("since"), until=case.get("until"), name=name, options=options
    )


def _all(w: Workload) -> list[tuple[str, dict[str, Any]]]:
    """Every report with every case and each of its own option sets: (name, parameters)."""
    return [
        (name, _parameters(name, case, extra))
        for name in REPORTS
        for case in _cases(w)
        for extra in EXTRA.get(name, ({},))
        if name != "projection" or "until" in case  # without an end it projects from now
    ]


BUDGETS = [
    parse_budget({"tenant": "t", "name": "all", "period": "monthly", "limit_usd": 0.5}),
    parse_budget(
        {
            "tenant": "t",
            "name": "day",
            "period": "daily",
            "limit_tokens": 90_000,
            "agent": "planner",
            "timezone": "Asia/Kathmandu",
        }
    ),
    parse_budget(
        {
            "tenant": "t",
            "name": "hour",
            "period": "hourly",
            "limit_usd": 0.01,
            "model": "gpt-4o",
            "service": "svc-b",
        }
    ),
]


def _budgets(store: Store, w: Workload, *, raw: bool) -> list[dict[str, Any]]:
    """Budget status at a few moments inside the workload, from the rollup or (raw) the steps."""
    spend = load_job("budgets/spend")

    class Reader:
        def query(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
            if raw and sql == spend:
                sql = (RAW / "budgets_spend.sql").read_text("utf-8")
            return store.query(sql, parameters)

    moments = [w.run_starts[k] + dt.timedelta(seconds=s) for k, s in ((10, 1), (60, 3), (119, 90))]
    return [s.document() for at in moments for s in budget_status(Reader(), BUDGETS, at)]


def _same(got: list[tuple], want: list[tuple]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert len(g) == len(w)
        for a, b in zip(g, w, strict=True):
            if isinstance(a, float) and isinstance(b, float):
                # Sums of costs in another order may round to the next millionth (round(x, 6)).
                assert a == pytest.approx(b, rel=1e-9, abs=1.01e-6, nan_ok=True)
            else:
                assert a == b


def _recomputed(store: Store) -> dict[bool, int]:
    rows = store.query(
        "SELECT recomputed, count() FROM agent_runs_resolved(tenant = 't', since = '2000-01-01 00:00:00',"
        " until = '2200-01-01 00:00:00', service = '') GROUP BY recomputed"
    ).rows
    return dict(rows)


def test_rollup_reports_equal_the_steps_reports_with_copies_cuts_and_attribution(
    store: Store, workload: Workload
) -> None:
    asked = _all(workload)
    before = [_report(store, name, parameters) for name, parameters in asked]
    rolled_asked = [(name, p) for name, p in asked if name in ROLLED and not p["agent"]]
    rolled = [_rolled(store, name, parameters) for name, parameters in rolled_asked]
    sources = _recomputed(store)
    # Clean stamped runs come from the rollup; copies, other libraries' runs and the run holding a
    # remote span are recomputed from the steps.
    assert sources[False] > 60 and 20 <= sources[True] < 50
    [(copies, spans)] = store.query("SELECT sum(Copies), sum(length(Spans)) FROM agent_runs FINAL").rows
    assert copies == spans + 12  # the rollup saw every copy; the view does not count them twice
    [(calls, hashes)] = store.query("SELECT sum(Calls), sum(length(Spans)) FROM agent_costs FINAL").rows
    assert calls > hashes  # copies of model calls among them
    costs = store.query(
        "SELECT recomputed, count() FROM agent_costs_resolved(tenant = 't', since = '2000-01-01 00:00:00',"
        " until = '2200-01-01 00:00:00', service = '') GROUP BY recomputed"
    ).rows
    assert dict(costs)[False] > dict(costs)[True] > 0  # most quarter groups from the rollup
    groups = store.query(
        "SELECT recomputed, count() FROM agent_step_groups_resolved(tenant = 't', since = '2000-01-01 00:00:00',"
        " until = '2200-01-01 00:00:00', service = '') GROUP BY recomputed"
    ).rows
    assert dict(groups)[False] > dict(groups)[True] > 0  # copies and other libraries' steps recomputed
    [(calls, hashes)] = store.query("SELECT sum(Calls), sum(length(Spans)) FROM agent_model_calls FINAL").rows
    assert calls > hashes
    model_calls = store.query(
        "SELECT recomputed, count() FROM agent_model_calls_resolved(tenant = 't', since = '2000-01-01 00:00:00',"
        " until = '2200-01-01 00:00:00', service = '') GROUP BY recomputed"
    ).rows
    assert dict(model_calls)[False] > dict(model_calls)[True] > 0
    # Both arms together count every model call once, each under one PriceId ('' when unpriced).
    [(view_calls, view_ok, by_price_calls)] = store.query(
        "SELECT sum(Calls), sum(OkCalls), sum(arraySum(ByPrice.2)) FROM agent_model_calls_resolved(tenant = 't',"
        " since = '2000-01-01 00:00:00', until = '2200-01-01 00:00:00', service = '')"
    ).rows
    [(step_calls, step_ok)] = store.query(
        "SELECT count(), countIf(StatusCode != 'Error') FROM agent_steps FINAL WHERE Tenant = 't' AND IsModelCall"
    ).rows
    assert view_calls == by_price_calls == step_calls and view_ok == step_ok

    budgets = _budgets(store, workload, raw=False)
    assert any(b["spent"] for b in budgets)
    # The errors report has failures of every kind to count: stamped, resolved by attribution, copied.
    assert all(rows for (name, _), rows in zip(asked, before, strict=True) if name == "errors")
    [(stamped, other)] = store.query("SELECT countIf(IsStamped), countIf(NOT IsStamped) FROM agent_failures").rows
    assert stamped > 0 and other > 0

    store.command("OPTIMIZE TABLE agent_steps FINAL")
    for (name, parameters), rows in zip(asked, before, strict=True):
        _same(rows, _raw(store, name, parameters))
        _same(_report(store, name, parameters), rows)  # merging changed nothing
    # Every case without an agent, each with rows: steps always, recommendations with its options.
    assert {n for (n, _), rows in zip(rolled_asked, rolled, strict=True) if rows} == set(ROLLED)
    assert sum(1 for rows in rolled if rows) >= 6
    kinds = {row[0] for (n, _), rows in zip(rolled_asked, rolled, strict=True) if n == "recommendations" for row in rows}
    assert kinds == {"cheaper_model", "input_heavy", "cache_potential", "runaway_runs", "retried_tools"}
    for (name, parameters), rows in zip(rolled_asked, rolled, strict=True):
        _same(rows, _raw(store, name, parameters))
        _same(_rolled(store, name, parameters), rows)
    raw_budgets = _budgets(store, workload, raw=True)
    _same([tuple(b.values()) for b in budgets], [tuple(b.values()) for b in raw_budgets])


def test_a_replayed_batch_reaches_the_rollup_once(store: Store, workload: Workload) -> None:
    batch = [workload.stamped_spans[5], workload.stamped_spans[6]]
    batch = [list(row) for row in batch]
    for row in batch:
        row[AGENT_STEPS_COLUMNS.index("SpanId")] = "replay" + row[AGENT_STEPS_COLUMNS.index("SpanId")][6:]
    run = batch[0][AGENT_STEPS_COLUMNS.index("RunId")]
    count = "SELECT sum(Copies) FROM agent_runs WHERE RunKey = {run:String}"
    [(before,)] = store.query(count, {"run": run}).rows
    insert(store, batch, dedup_token="wal-batch-1")
    insert(store, batch, dedup_token="wal-batch-1")  # the WAL replays it after a crash
    assert store.query(count, {"run": run}).rows == [(before + 2,)]


def test_a_reprice_keeps_the_rollups_equal_to_the_steps(store: Store, workload: Workload) -> None:
    store.command("OPTIMIZE TABLE agent_steps FINAL")
    total = report_parameters(tenant="t", name="overview")
    [cost_before] = [r[9] for r in run_report(store, "overview", total).rows]
    cheap = PriceRow(
        "test-cheap", "test", ("openai",), "^gpt-4o", dt.datetime(2026, 1, 1), 0.5, 2.0, priority=9
    )
    write_rows(store, [cheap])
    since, until = workload.run_starts[30], workload.run_starts[90] + dt.timedelta(seconds=3)
    staged, priced = reprice(store, report_parameters(tenant="t", since=since, until=until))
    assert staged > 100 and priced > 0
    [cost_after] = [r[9] for r in run_report(store, "overview", total).rows]
    assert cost_after != pytest.approx(cost_before, abs=1e-3)  # the new prices reach the reports
    for name, parameters in _all(workload):
        _same(run_report(store, name, parameters).rows, _raw(store, name, parameters))
        if name in ROLLED and not parameters["agent"]:
            _same(_rolled(store, name, parameters), _raw(store, name, parameters))
    rolled, raw = _budgets(store, workload, raw=False), _budgets(store, workload, raw=True)
    _same([tuple(b.values()) for b in rolled], [tuple(b.values()) for b in raw])


def test_a_tenant_key_reads_its_own_runs_only(store: Store, workload: Workload) -> None:
    other = [list(row) for row in workload.stamped_spans[:3]]
    for row in other:
        row[AGENT_STEPS_COLUMNS.index("Tenant")] = "other"
    insert(store, other)
    reader = ReadPath.for_store(store).tenant("other")
    view = (
        "SELECT Tenant, count() FROM agent_runs_resolved(tenant = {tenant:String}, since = '2000-01-01 00:00:00',"
        " until = '2200-01-01 00:00:00', service = '') GROUP BY Tenant"
    )
    assert reader.query(view, {"tenant": "other"}).rows == [("other", 1)]
    assert reader.query(view, {"tenant": "t"}).rows == [("other", 1)]  # the key's tenant is forced
    assert reader.query(view.replace("{tenant:String}", "'*'"), {}).rows == [("other", 1)]
    assert reader.query("SELECT DISTINCT Tenant FROM agent_runs", {}).rows == [("other",)]
    groups = view.replace("agent_runs_resolved", "agent_step_groups_resolved").replace("count()", "sum(Calls)")
    assert reader.query(groups, {"tenant": "t"}).rows == [("other", 3)]
    assert reader.query(groups.replace("{tenant:String}", "'*'"), {}).rows == [("other", 3)]
    assert reader.query("SELECT DISTINCT Tenant FROM agent_step_groups", {}).rows == [("other",)]
    model_calls = groups.replace("agent_step_groups_resolved", "agent_model_calls_resolved")
    [(_, other_calls)] = reader.query(model_calls, {"tenant": "t"}).rows
    assert reader.query(model_calls.replace("{tenant:String}", "'*'"), {}).rows == [("other", other_calls)]
    assert reader.query("SELECT DISTINCT Tenant FROM agent_model_calls", {}).rows == [("other",)]


@pytest.mark.parametrize("name", ROLLED)
def test_a_tenant_key_runs_a_rollup_report_on_its_own_rows(store: Store, workload: Workload, name: str) -> None:
    """A report's rollup query through the read path under a tenant key: the checker takes it, the
    figures are the tenant's, and another tenant's key reads none of them."""
    parameters = report_parameters(tenant="t", name=name, options=FEW_RUNS.get(name))
    sql = load_job(f"reports/{name}")
    rows = run_report(_Fixed(ReadPath.for_store(store).tenant("t").query, sql), name, parameters).rows
    assert rows
    _same(rows, _rolled(store, name, parameters))
    stranger = ReadPath.for_store(store).tenant("stranger")
    assert run_report(_Fixed(stranger.query, sql), name, parameters).rows == []


def test_the_upgrade_fills_the_step_groups_and_rebuilds_the_runs_from_the_stored_steps(
    store: Store, workload: Workload
) -> None:
    """Migrations 0099, 0109-0113 (the latest rebuild of agent_runs, as 0101-0105 were) and 0117 on a
    store that already holds steps (copies merged by now): agent_step_groups and agent_model_calls
    are filled and every run rewritten with its StepGroups and UnscoredCalls, once."""
    statements = {step.version: step.single for step in steps()}
    store.command("OPTIMIZE TABLE agent_steps FINAL")
    store.command("TRUNCATE TABLE agent_step_groups")
    store.command("TRUNCATE TABLE agent_model_calls")
    for version in (99, 109, 111, 112, 113, 117):
        for sql in statements[version]:
            store.command(sql)
    [(copies, spans, grouped, unscored)] = store.query(
        "SELECT sum(Copies), sum(length(Spans)), countIf(notEmpty(StepGroups)), sum(arraySum(UnscoredCalls.2))"
        " FROM agent_runs FINAL"
    ).rows
    assert copies == spans and grouped > 60  # rewritten from the merged steps, not added to the old rows
    [(unscored_calls,)] = store.query(
        "SELECT count() FROM agent_steps FINAL WHERE IsStamped AND IsModelCall AND QualityScore IS NULL"
    ).rows
    assert unscored == unscored_calls > 100
    [(calls,)] = store.query("SELECT sum(Calls) FROM agent_step_groups").rows
    [(stamped,)] = store.query("SELECT count() FROM agent_steps FINAL WHERE IsStamped").rows
    assert calls == stamped
    [(model_calls, hashes)] = store.query("SELECT sum(Calls), sum(length(Spans)) FROM agent_model_calls FINAL").rows
    [(stamped_calls,)] = store.query("SELECT count() FROM agent_steps FINAL WHERE IsStamped AND IsModelCall").rows
    assert model_calls == hashes == stamped_calls
    for name, parameters in _all(workload):
        if name in ("steps", "overview", "executions", "benchmarks", "recommendations"):
            _same(_report(store, name, parameters), _raw(store, name, parameters))
        if name in ROLLED and not parameters["agent"]:
            _same(_rolled(store, name, parameters), _raw(store, name, parameters))



@pytest.mark.parametrize("name", ROLLED)
def test_a_report_reads_the_rollups_where_every_step_is_stamped(store: Store, workload: Workload, name: str) -> None:
    """With another library's steps in the range, or an agent asked for, it reads the steps; over
    stamped runs only, the rollups."""
    from_steps, rolled = load_job(VARIANTS[name].job), load_job(f"reports/{name}")
    everything = report_parameters(tenant="t", name=name)
    assert report_query(store, name, everything) == from_steps
    assert report_query(store, name, {**everything, "agent": "writer"}) == from_steps
    others = (
        "SELECT countIf(NOT IsStamped) FROM agent_steps WHERE Tenant = 't'"
        " AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}"
    )
    for first in range(len(workload.run_starts) - 4):
        since, until = workload.run_starts[first], workload.run_starts[first + 4]
        stamped_only = report_parameters(
            tenant="t", since=since, until=until, name=name, options=FEW_RUNS.get(name)
        )
        if store.query(others, stamped_only).rows == [(0,)]:
            break
    else:
        pytest.fail("no four runs in a row without another library's steps")
    assert report_query(store, name, stamped_only) == rolled
    rows = _report(store, name, stamped_only)
    assert rows
    _same(rows, _raw(store, name, stamped_only))
