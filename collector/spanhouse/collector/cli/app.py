"""`spanhouse` commands: collector, demo, sql, report, traces, retention, prices, migrate."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from spanhouse.collector.cli.access import ApiKey
from spanhouse.collector.cli.debugging import retention_app, traces_app
from spanhouse.collector.cli.options import (
    DEFAULT_DATA_DIR,
    ClickHouseUrl,
    CollectorUrl,
    DataDir,
    Format,
    console,
    parse_assignments,
    read_or_fail,
)
from spanhouse.collector.cli.options import fail as _fail
from spanhouse.collector.cli.output import OutputFormat, render
from spanhouse.collector.cli.prices import prices_app
from spanhouse.collector.errors import SpanhouseError
from spanhouse.collector.reports import report_names, report_parameters, run_report
from spanhouse.collector.store import open_store

app = typer.Typer(
    help="spanhouse: LLM-agent observability on OpenTelemetry and ClickHouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(traces_app, name="traces")
app.add_typer(retention_app, name="retention")
app.add_typer(prices_app, name="prices")


@app.command()
def collector(
    ctx: typer.Context,
    config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--config",
            envvar="SPANHOUSE_CONFIG",
            help="Collector YAML (OTel Collector shape, see deploy/collector.yaml); flags given override it.",
            dir_okay=False,
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    grpc_endpoint: Annotated[
        str, typer.Option(help="OTLP/gRPC listen address (port 0 picks one).")
    ] = "127.0.0.1:4317",
    http_endpoint: Annotated[str, typer.Option(help="OTLP/HTTP and API listen address.")] = "127.0.0.1:4318",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    wal_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Write-ahead log directory, owned by one collector at a time "
            "(default: <data-dir>/wal; <data-dir>/wal-<host>-<port>-<database> with --clickhouse-url).",
            file_okay=False,
        ),
    ] = None,
    wal_max_bytes: Annotated[
        int,
        typer.Option(min=1 << 16, help="WAL size at which clients are throttled (429 / RESOURCE_EXHAUSTED)."),
    ] = 1 << 30,
    retry_after: Annotated[
        float, typer.Option(min=0.0, help="Seconds throttled clients are told to wait.")
    ] = 1.0,
    api_keys: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="YAML file 'api_keys: {<key>: <tenant>}' (else env SPANHOUSE_API_KEYS=<key>=<tenant>,...)."
        ),
    ] = None,
    tls_cert: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="PEM certificate: serve OTLP and the API over TLS."),
    ] = None,
    tls_key: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="PEM private key of --tls-cert."),
    ] = None,
    max_spans_per_request: Annotated[
        int, typer.Option(min=1, help="Requests with more spans are refused (413 / RESOURCE_EXHAUSTED).")
    ] = 100_000,
    drain_timeout: Annotated[
        float,
        typer.Option(min=0.0, help="On SIGTERM, seconds to keep trying a failing store before exiting."),
    ] = 30.0,
    max_concurrent_requests: Annotated[
        int,
        typer.Option(
            min=1,
            help="HTTP requests read, or gRPC calls in flight, at once; more get HTTP 503 + Retry-After "
            "or gRPC RESOURCE_EXHAUSTED.",
        ),
    ] = 64,
    max_attribute_chars: Annotated[
        int, typer.Option(min=16, help="Longer attribute values are truncated to this many characters.")
    ] = 32 * 1024,
) -> None:
    """Run the collector until SIGTERM or Ctrl-C."""
    from spanhouse.collector.auth import ENV_API_KEYS, ApiKeys
    from spanhouse.collector.processors.limits import SpanLimits
    from spanhouse.collector.service import Collector, CollectorSettings

    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        _fail(f"--log-level {log_level!r} is not one of debug, info, warning, error")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        keys = ApiKeys.load(api_keys, os.environ.get(ENV_API_KEYS))
    except SpanhouseError as exc:
        _fail(str(exc))
    settings = CollectorSettings(
        data_dir=data_dir,
        clickhouse_url=clickhouse_url,
        grpc_endpoint=grpc_endpoint,
        http_endpoint=http_endpoint,
        wal_dir=wal_dir,
        wal_max_bytes=wal_max_bytes,
        retry_after_s=retry_after,
        api_keys=keys,
        tls_cert=tls_cert,
        tls_key=tls_key,
        drain_timeout_s=drain_timeout,
        max_concurrent_requests=max_concurrent_requests,
        limits=SpanLimits(max_spans_per_request=max_spans_per_request, max_value_chars=max_attribute_chars),
    )
    if config is not None:
        from spanhouse.collector.cli.collector_config import settings_from_config
        from spanhouse.collector.config import load_config

        explicit = {
            name
            for name in ctx.params
            if getattr(ctx.get_parameter_source(name), "name", "") in ("COMMANDLINE", "ENVIRONMENT")
        }
        try:
            settings = settings_from_config(
                load_config(config), settings, explicit, os.environ.get(ENV_API_KEYS)
            )
        except SpanhouseError as exc:
            _fail(str(exc))
    service = Collector(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        service.start()
    except (SpanhouseError, OSError, ValueError) as exc:
        service.shutdown()
        _fail(str(exc))
    console.print(  # one line, whatever the width: logs and scripts read the URL from it
        f"spanhouse collector: OTLP/gRPC {service.grpc_endpoint}, OTLP/HTTP + API {service.http_url}",
        soft_wrap=True,
    )
    stop.wait()
    console.print("shutting down: storing what was accepted")
    service.shutdown()


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
        result = reader.query(query, parameters)
    render(result, fmt)


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="Report name: " + ", ".join(report_names()))],
    since: Annotated[Optional[dt.datetime], typer.Option(help="Start of the range (UTC).")] = None,  # noqa: UP045
    until: Annotated[Optional[dt.datetime], typer.Option(help="End of the range (UTC).")] = None,  # noqa: UP045
    tenant: Annotated[str, typer.Option(help="Tenant id.")] = "",
    agent: Annotated[str, typer.Option(help="Only this agent (reports that take one).")] = "",
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
    try:
        parameters = report_parameters(tenant=tenant, since=since, until=until, name=name, options=options)
    except SpanhouseError as exc:
        _fail(str(exc))
    with read_or_fail(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, api_key=api_key
    ) as reader:
        result = run_report(reader, name, parameters)
    render(result, fmt, title=name)


@app.command()
def migrate(data_dir: DataDir = DEFAULT_DATA_DIR, clickhouse_url: ClickHouseUrl = None) -> None:
    """Apply pending schema migrations (the collector also does this at start)."""
    try:
        store = open_store(data_dir=None if clickhouse_url else data_dir, url=clickhouse_url)
        try:
            applied = store.migrate()
        finally:
            store.close()
    except SpanhouseError as exc:
        _fail(str(exc))
    console.print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))


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
