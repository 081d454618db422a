"""`spanhouse` commands: collector, demo, sql, report, traces, retention, prices, budgets, alerts, keys,
experiments, migrate, export, import."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from spanhouse.collector.cli.access import ApiKey, open_target_store, resolve_target
from spanhouse.collector.cli.budgets import alerts_app, budgets_app
from spanhouse.collector.cli.collector import collector
from spanhouse.collector.cli.debugging import retention_app, traces_app
from spanhouse.collector.cli.experiments import experiments_app
from spanhouse.collector.cli.keys import keys_app
from spanhouse.collector.cli.options import (
    DEFAULT_DATA_DIR,
    ClickHouseUrl,
    CollectorUrl,
    DataDir,
    Format,
    ServiceFilter,
    Since,
    Until,
    console,
    parse_assignments,
    read_or_fail,
    time_range,
)
from spanhouse.collector.cli.options import fail as _fail
from spanhouse.collector.cli.output import OutputFormat, render, with_columns
from spanhouse.collector.cli.prices import prices_app
from spanhouse.collector.errors import SpanhouseError
from spanhouse.collector.reports import report_names, report_parameters, report_query, run_report
from spanhouse.collector.store import open_store

app = typer.Typer(
    help="spanhouse: LLM-agent observability on OpenTelemetry and ClickHouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors (every sub-command too): no "<bool>" type shown for flags, and
    # lines that wrap to the terminal instead of boxed panels.
    rich_markup_mode=None,
)
app.command()(collector)
app.add_typer(traces_app, name="traces")
app.add_typer(retention_app, name="retention")
app.add_typer(prices_app, name="prices")
app.add_typer(budgets_app, name="budgets")
app.add_typer(alerts_app, name="alerts")
app.add_typer(keys_app, name="keys")
app.add_typer(experiments_app, name="experiments")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only ClickHouse query.")],
    param: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--param", "-p", help="Query parameter name=value for {name:Type} placeholders."),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Run a read-only query, whether or not a collector owns the embedded store."""
    parameters = parse_assignments(param)
    with read_or_fail(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, api_key=api_key
    ) as reader:
        result = with_columns(reader, query, parameters, reader.query(query, parameters))
    render(result, fmt)


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="Report name: " + ", ".join(report_names()))],
    since: Since = None,
    until: Until = None,
    tenant: Annotated[str, typer.Option(help="Tenant id.")] = "",
    agent: Annotated[str, typer.Option(help="Only this agent (reports that take one).")] = "",
    service: ServiceFilter = "",
    param: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--param", "-p", help="Report parameter name=value, e.g. error_rate_critical=0.2."),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Run a named report (a SQL job under schemas/jobs/reports); `--param` sets its thresholds."""
    if name not in report_names():
        _fail(f"no report named {name!r}; choose one of: {', '.join(report_names())}")
    options: dict[str, str] = parse_assignments(param)
    if agent:
        options["agent"] = agent
    if service:
        options["service"] = service
    start, end = time_range(since, until)
    try:
        parameters = report_parameters(tenant=tenant, since=start, until=end, name=name, options=options)
    except SpanhouseError as exc:
        _fail(str(exc))
    with read_or_fail(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, api_key=api_key
    ) as reader:
        result = run_report(reader, name, parameters)
        if not result.rows:  # chDB names no columns of an empty result; the query is chosen again only then
            result = with_columns(reader, report_query(reader, name, parameters), parameters, result)
    render(result, fmt, title=name)


@app.command()
def migrate(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    cluster: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Apply the cluster form (ReplicatedMergeTree + Distributed, ON CLUSTER) to this cluster "
            "of --clickhouse-url; see docs/deploy.md."
        ),
    ] = None,
    reader_password: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            envvar="SPANHOUSE_READER_PASSWORD",
            help="ClickHouse server: also make the restricted user spanhouse_reader (settings profile, "
            "quota, row policies) with this password, for the collector's --clickhouse-reader-url.",
        ),
    ] = None,
) -> None:
    """Apply pending schema migrations (the collector also does this at start, single-node form)."""
    from spanhouse.collector.readpath.server import create_reader

    if cluster is not None and not clickhouse_url:
        _fail("--cluster needs --clickhouse-url (a node of that cluster); the embedded store is one node")
    try:
        target = resolve_target(data_dir=data_dir, clickhouse_url=clickhouse_url, create=True)
        if target.api_url is not None:  # a running collector owns the store: it migrated at start
            console.print(
                f"the store at {data_dir} is owned by the running collector at {target.api_url}, "
                "which applied every migration when it started",
                soft_wrap=True,
            )
            return
        with open_target_store(target) as store:
            applied = store.migrate(cluster=cluster)
            reader = create_reader(store, reader_password) if reader_password else []
    except SpanhouseError as exc:
        _fail(str(exc))
    console.print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    if reader:
        console.print("reader user spanhouse_reader ready: " + ", ".join(reader))


@app.command("export")
def export_(
    out_dir: Annotated[Path, typer.Argument(help="New or empty directory for the export.", file_okay=False)],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
) -> None:
    """Write the store's tables to Native files (stop the collector on an embedded store first)."""
    from spanhouse.collector.transfer import export_store, summary

    try:
        store = open_store(data_dir=None if clickhouse_url else data_dir, url=clickhouse_url)
        try:
            written = export_store(store, out_dir)
        finally:
            store.close()
    except SpanhouseError as exc:
        _fail(str(exc))
    render_summary = ", ".join(
        f"{t}: {v['files']} file(s), {v['bytes']} bytes" for t, v in summary(written).items()
    )
    console.print(f"exported to {out_dir}: {render_summary}")


@app.command("import")
def import_(
    in_dir: Annotated[
        Path, typer.Argument(help="A directory written by `spanhouse export`.", file_okay=False)
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
) -> None:
    """Load an export into this store (migrated first; a re-run skips files already loaded)."""
    from spanhouse.collector.transfer import import_store, summary

    try:
        store = open_store(data_dir=None if clickhouse_url else data_dir, url=clickhouse_url)
        try:
            store.migrate()
            loaded = import_store(store, in_dir)
        finally:
            store.close()
    except SpanhouseError as exc:
        _fail(str(exc))
    render_summary = ", ".join(f"{t}: {v['files']} file(s)" for t, v in summary(loaded).items()) or "nothing"
    console.print(f"imported from {in_dir}: {render_summary}")


@app.command()
def demo(
    data_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--data-dir", help="Where to keep the demo store (must be new or empty); default: a new temp dir."
        ),
    ] = None,
    runs: Annotated[int, typer.Option(min=1, max=100_000, help="Agent runs to simulate.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed of the simulated workload.")] = 7,
    protocol: Annotated[
        str, typer.Option(help="OTLP protocol: grpc, or http/protobuf (http for short).")
    ] = "grpc",
    time_scale: Annotated[
        float, typer.Option(min=0.0, help="Scale of simulated latencies (0 = none).")
    ] = 1.0,
    fmt: Format = OutputFormat.table,
) -> None:
    """Start a collector on a fresh embedded store, run a simulated agent workload, print a report."""
    from spanhouse.collector.demo.report import DemoProgress, print_demo
    from spanhouse.collector.demo.run import run_demo
    from spanhouse.collector.demo.workload import WorkloadSettings

    protocol = {"http": "http/protobuf"}.get(protocol, protocol)
    if protocol not in ("grpc", "http/protobuf"):
        _fail(f"--protocol {protocol!r} must be grpc or http/protobuf (or http)")
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="spanhouse-demo-"))
    elif data_dir.exists() and any(data_dir.iterdir()):
        _fail(f"--data-dir {data_dir} is not empty; the demo needs a fresh store")
    with DemoProgress(console) as progress:
        try:
            result = run_demo(
                data_dir.resolve(),
                WorkloadSettings(runs=runs, seed=seed, time_scale=time_scale),
                protocol=protocol,
                progress=progress,
            )
        except SpanhouseError as exc:
            _fail(str(exc))
    print_demo(result, fmt)
