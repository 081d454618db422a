"""`spanhouse experiments`: define A/B experiments, start and stop them, read their results.

Every command is one request to the experiments API (api/experiments.py): over HTTP to the
collector that owns the store (or --collector-url), or, with no collector running, to the same
handlers in this process on the store itself. Either way the same checks and errors apply.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional, Protocol

import typer
from rich.console import Console
from rich.table import Table

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import ReadAccess
from spanhouse.collector.api.experiments import experiment_routes
from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.cli.access import ApiKey, call_api, open_target_store, resolve_target
from spanhouse.collector.cli.options import (
    DEFAULT_DATA_DIR,
    ClickHouseUrl,
    CollectorUrl,
    DataDir,
    Format,
    console,
)
from spanhouse.collector.cli.options import fail as _fail
from spanhouse.collector.cli.output import OutputFormat, render
from spanhouse.collector.errors import SpanhouseError
from spanhouse.collector.experiments.definition import DEFAULT_ALPHA, DEFAULT_MIN_SAMPLE
from spanhouse.collector.httpserver import Request
from spanhouse.collector.readpath import ReadPath
from spanhouse.collector.store import ClickHouseStore
from spanhouse.collector.store.base import QueryResult

experiments_app = typer.Typer(
    help="A/B experiments: define variants and metrics, start, stop, and let the statistics decide.",
    no_args_is_help=True,
)

Tenant = Annotated[
    str, typer.Option(help="Tenant whose experiments these are (with the operator key, or on the store).")
]
Name = Annotated[
    str, typer.Argument(help="Experiment name: the id given to experiment(...) in the agent code.")
]
At = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at runtime
    typer.Option("--at", help="ISO-8601 time (UTC) instead of now."),
]

_RESULT_COLUMNS = (
    ("metric", "metric"),
    ("role", "role"),
    ("variant", "variant"),
    ("test", "test"),
    ("n", "n"),
    ("mean", "mean"),
    ("ci", "95% CI"),
    ("diff", "diff"),
    ("diff_ci", "diff 95% CI"),
    ("rel_diff", "rel diff"),
    ("p_value", "p"),
    ("p_adjusted", "p (Holm)"),
    ("better", "better"),
)


class _Client(Protocol):
    def call(self, method: str, path: str, document: dict[str, Any] | None = None) -> dict[str, Any]: ...


class _ApiClient:
    """The experiments API of a running collector."""

    def __init__(self, base_url: str, api_key: str | None) -> None:
        self.base_url = base_url
        self.api_key = api_key

    def call(self, method: str, path: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
        return call_api(self.base_url, method, path, document, api_key=self.api_key, timeout_s=600)


class _InProcessClient:
    """The same handlers, run in this process on a store it opened (no collector owns it), reading
    through the same checked read path as the API."""

    def __init__(self, store: ClickHouseStore, read_path: ReadPath) -> None:
        self.routes = experiment_routes(store, ReadAccess(read_path, ApiKeys()))

    def call(self, method: str, path: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
        route, _, query = path.partition("?")
        body = json.dumps(document).encode() if document is not None else b""
        response = self.routes[(method, route)](Request(method, route, query, {}, body))
        answer = json.loads(response.body)
        if response.status >= 400:
            raise SpanhouseError(answer.get("error", f"request failed with {response.status}"))
        return dict(answer)


@contextmanager
def _client(
    data_dir: Path, clickhouse_url: str | None, collector_url: str | None, api_key: str | None, *, write: bool
) -> Iterator[_Client]:
    target = resolve_target(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, create=write
    )
    if target.api_url is not None:
        yield _ApiClient(target.api_url, api_key)
        return
    with open_target_store(target) as store:
        store.migrate()
        read_path = ReadPath.for_store(store)
        try:
            yield _InProcessClient(store, read_path)
        finally:
            read_path.close()


def _request(
    method: str,
    path: str,
    document: dict[str, Any] | None,
    where: tuple[Path, str | None, str | None, str | None],
    *,
    write: bool = False,
) -> dict[str, Any]:
    try:
        with _client(*where, write=write) as client:
            return client.call(method, path, document)
    except SpanhouseError as exc:
        _fail(str(exc))


def _path(route: str, **query: Any) -> str:
    given = {k: v for k, v in query.items() if v not in (None, "")}
    return f"/v1/experiments{route}" + (f"?{urllib.parse.urlencode(given)}" if given else "")


@experiments_app.command("create")
def create(
    name: Name,
    variants: Annotated[
        str,
        typer.Option(help="Variants and their percentage of units, summing to 100: control=50,candidate=50."),
    ],
    primary: Annotated[
        str,
        typer.Option(
            help="Metric that decides the winner: success_rate, duration, total_tokens, cost, quality or score:<name>."
        ),
    ],
    metrics: Annotated[str, typer.Option(help="More metrics to report, comma-separated.")] = "",
    guard: Annotated[
        str, typer.Option(help="Metrics that block a winner when significantly worse, comma-separated.")
    ] = "",
    control: Annotated[
        str,
        typer.Option(help="The variant the others are compared with (default: 'control', else the first)."),
    ] = "",
    unit: Annotated[
        str, typer.Option(help="What is randomized: run, user, session or attribute:<key>.")
    ] = "run",
    alpha: Annotated[float, typer.Option(help="Significance level, after Holm correction.")] = DEFAULT_ALPHA,
    min_sample: Annotated[int, typer.Option(help="Units per variant before a winner may be declared.")] = (
        DEFAULT_MIN_SAMPLE
    ),
    target_effect: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(help="Change of the primary metric the power line speaks of (default: 2 points / 5%)."),
    ] = None,
    fixed_horizon: Annotated[
        bool,
        typer.Option(
            "--fixed-horizon",
            help="Judge the primary metric by its fixed-horizon p-value (only if you look once, at the end).",
        ),
    ] = False,
    description: Annotated[str, typer.Option(help="What the experiment tries.")] = "",
    start_at: Annotated[Optional[str], typer.Option(help="Count units from this time (UTC).")] = None,  # noqa: UP045
    end_at: Annotated[Optional[str], typer.Option(help="Count units until this time (UTC).")] = None,  # noqa: UP045
    tenant: Tenant = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Define an experiment (a draft until `start`)."""
    from spanhouse.collector.experiments.definition import parse_variants

    try:
        split = dict(parse_variants(variants))
    except SpanhouseError as exc:
        _fail(f"--variants: {exc}")
    document: dict[str, Any] = {
        "name": name,
        "variants": split,
        "primary": primary,
        "metrics": metrics,
        "guards": guard,
        "unit": unit,
        "alpha": alpha,
        "min_sample": min_sample,
        "sequential": not fixed_horizon,
        "description": description,
    }
    optional = {"control": control, "target_effect": target_effect, "start_at": start_at, "end_at": end_at}
    document.update({k: v for k, v in optional.items() if v not in (None, "")})
    if tenant:
        document["tenant"] = tenant
    answer = _request(
        "POST", _path(""), document, (data_dir, clickhouse_url, collector_url, api_key), write=True
    )
    made = answer["experiment"]
    split_text = ", ".join(f"{v} {w:g}%" for v, w in made["variants"].items())
    console.print(
        f"created experiment {made['name']!r} ({split_text}; primary {made['primary']}); "
        f"start it with `spanhouse experiments start {made['name']}`"
    )


@experiments_app.command("list")
def list_experiments(
    status: Annotated[str, typer.Option(help="Only draft, running or stopped experiments.")] = "",
    tenant: Tenant = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Experiments of the tenant, oldest first."""
    answer = _request(
        "GET",
        _path("", status=status, tenant=tenant),
        None,
        (data_dir, clickhouse_url, collector_url, api_key),
    )
    columns = ("name", "status", "variants", "control", "unit", "primary", "guards", "alpha", "min_sample",
               "start_at", "end_at")  # fmt: skip
    rows = [tuple(_list_cell(e, c) for c in columns) for e in answer["experiments"]]
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(answer["experiments"]) + "\n")
        return
    render(QueryResult(columns, rows), fmt, title="experiments")


def _list_cell(experiment: dict[str, Any], column: str) -> Any:
    value = experiment[column]
    if column == "variants":
        return ", ".join(f"{k}={v:g}" for k, v in value.items())
    if column == "guards":
        return ", ".join(value)
    return value


@experiments_app.command("show")
def show(
    name: Name,
    tenant: Tenant = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """One experiment's definition."""
    answer = _request(
        "GET", _path("", name=name, tenant=tenant), None, (data_dir, clickhouse_url, collector_url, api_key)
    )
    [experiment] = answer["experiments"]
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(experiment) + "\n")
        return
    shown = {
        k: _list_cell(experiment, k) if k in ("variants", "guards") else v for k, v in experiment.items()
    }
    shown["metrics"] = ", ".join(experiment["metrics"])
    render(QueryResult(tuple(shown), [tuple(shown.values())]), fmt, title=name)


def _change(action: str, name: str, at: str | None, tenant: str, where: tuple) -> None:
    document: dict[str, Any] = {"name": name}
    if at:
        document["at"] = at
    if tenant:
        document["tenant"] = tenant
    answer = _request("POST", _path(f"/{action}"), document, where, write=True)
    experiment = answer["experiment"]
    when = experiment["start_at"] if action == "start" else experiment["end_at"]
    console.print(
        f"experiment {name!r} is {experiment['status']} ({'from' if action == 'start' else 'at'} {when})"
    )


@experiments_app.command("start")
def start(
    name: Name,
    at: At = None,
    tenant: Tenant = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Start counting units (a draft only); the collector then evaluates it on a schedule."""
    _change("start", name, at, tenant, (data_dir, clickhouse_url, collector_url, api_key))


@experiments_app.command("stop")
def stop(
    name: Name,
    at: At = None,
    tenant: Tenant = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Stop counting units; results stay readable."""
    _change("stop", name, at, tenant, (data_dir, clickhouse_url, collector_url, api_key))


@experiments_app.command("results")
def results(
    name: Name,
    as_of: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Evaluate as of this time (UTC), default now."),
    ] = None,
    store_result: Annotated[
        bool, typer.Option("--store", help="Also store this evaluation in the experiment's history.")
    ] = False,
    tenant: Tenant = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Per metric and variant: n, mean, CI, difference to the control, p-values; then the verdict."""
    where = (data_dir, clickhouse_url, collector_url, api_key)
    if store_result:
        if as_of:
            _fail("--store evaluates now; drop --as-of to store the evaluation")
        body: dict[str, Any] = {"name": name, **({"tenant": tenant} if tenant else {})}
        document = _request("POST", _path("/evaluate"), body, where, write=True)
    else:
        document = _request("GET", _path("/results", name=name, as_of=as_of, tenant=tenant), None, where)
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(jsonrows.json_value(document)) + "\n")
    elif fmt is OutputFormat.csv:
        _write_csv(document)
    else:
        _print_results(document, Console())


@experiments_app.command("history")
def history(
    name: Name,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Most recent evaluations to list.")] = 50,
    tenant: Tenant = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Stored verdicts (scheduled evaluations and `results --store`), newest first."""
    answer = _request(
        "GET",
        _path("/history", name=name, limit=limit, tenant=tenant),
        None,
        (data_dir, clickhouse_url, collector_url, api_key),
    )
    render(
        QueryResult(tuple(answer["columns"]), [tuple(r) for r in answer["rows"]]),
        fmt,
        title=f"{name} history",
    )


def _write_csv(document: dict[str, Any]) -> None:
    rows = document["results"]
    verdict = document["verdict"]
    buffer = io.StringIO()
    columns = [*(rows[0].keys() if rows else ()), "verdict", "winner"]
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        cells = [*(jsonrows.json_value(v) for v in row.values()), verdict["status"], verdict["winner"] or ""]
        writer.writerow(["" if c is None else json.dumps(c) if isinstance(c, list) else c for c in cells])
    sys.stdout.write(buffer.getvalue())


def _print_results(document: dict[str, Any], out: Console) -> None:
    table = Table(
        title=f"experiment {document['experiment']} ({document['status']}) at {document['evaluated_at']}"
    )
    for _, title in _RESULT_COLUMNS:
        table.add_column(title, no_wrap=True)
    for row in document["results"]:
        table.add_row(*(_result_cell(row, key) for key, _ in _RESULT_COLUMNS))
    cells = [[_result_cell(row, key) for key, _ in _RESULT_COLUMNS] for row in document["results"]]
    needed = sum(
        max([len(title), *(len(r[i]) for r in cells)]) + 3 for i, (_, title) in enumerate(_RESULT_COLUMNS)
    )
    if needed > out.width:
        out = Console(file=out.file, width=needed + 20)
    out.print(table)
    verdict = document["verdict"]
    if verdict["winner"]:
        out.print(f"[bold green]verdict: {verdict['winner']} wins[/bold green]")
    else:
        out.print("[bold yellow]verdict: no winner yet[/bold yellow]")
        for reason in verdict["reasons"]:
            out.print(f"  - {reason}")
    for note in verdict["notes"]:
        out.print(f"  note: {note}")
    srm = verdict["srm_p_value"]
    if srm is not None:
        state = "FLAGGED" if verdict["srm_flagged"] else "ok"
        out.print(f"sample ratio check: chi-square p = {srm:.3g} ({state}; flagged below 0.001)")
    if verdict["power"]:
        out.print(f"power: {verdict['power']}")
    kind = verdict["primary_p_value_kind"]
    out.print(
        "p-values: the primary metric's is "
        + (
            "always-valid (mSPRT): it stays valid however often the results are looked at"
            if kind == "always_valid"
            else "fixed-horizon: valid if the results are looked at once, at the planned end"
        )
        + "; the other metrics' are fixed-horizon. p (Holm) is adjusted across variants x metrics."
    )


def _result_cell(row: dict[str, Any], key: str) -> str:
    if key == "ci":
        return _interval(row["ci_low"], row["ci_high"])
    if key == "diff_ci":
        return _interval(row["diff_ci_low"], row["diff_ci_high"])
    value = row.get(key)
    if value is None:
        return "—"
    if key == "p_value":
        mark = " (always-valid)" if row["p_value_kind"] == "always_valid" else ""
        return f"{value:.3g}{mark}"
    if key == "rel_diff":
        return f"{100 * value:+.2f}%"
    if key == "better":
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "—"
    return f"[{low:.4g}, {high:.4g}]"
