"""`spanhouse traces` (show, compare, report) and `spanhouse retention` commands."""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from spanhouse.collector.cli.access import ApiKey, call_api, open_target_store, resolve_target, store_reader
from spanhouse.collector.cli.options import (
    DEFAULT_DATA_DIR,
    ClickHouseUrl,
    CollectorUrl,
    DataDir,
    console,
    read_or_fail,
)
from spanhouse.collector.cli.options import fail as _fail
from spanhouse.collector.cli.output import OutputFormat, render
from spanhouse.collector.debug.trace import WarningThresholds
from spanhouse.collector.errors import SpanhouseError
from spanhouse.collector.jsonrows import json_value
from spanhouse.collector.reports import OPTIONS
from spanhouse.collector.retention import RETENTION_TABLES, retention_view, set_retention
from spanhouse.collector.store.client import QueryResult

# typer reads annotations at runtime
OptionalTime = Optional[dt.datetime]  # noqa: UP045
OptionalPath = Optional[Path]  # noqa: UP045

traces_app = typer.Typer(
    help="Debug single runs: trace tree, bottlenecks, comparison, reports.", no_args_is_help=True
)
retention_app = typer.Typer(help="How long each table keeps its rows (TTL).", invoke_without_command=True)

Tenant = Annotated[str, typer.Option(help="Tenant id.")]
BottleneckShare = Annotated[
    float,
    typer.Option(min=0.0, max=1.0, help="Share of the run on the critical path that makes a bottleneck."),
]
LowConfidence = Annotated[float, typer.Option(help="Warn low_confidence below this confidence.")]
HighTokens = Annotated[float, typer.Option(help="Warn high_token_usage above this many tokens in one call.")]
SlowMs = Annotated[float, typer.Option(help="Warn slow_execution above this duration (ms).")]
LowQuality = Annotated[float, typer.Option(help="Warn quality_concern below this quality score.")]


class ViewFormat(str, enum.Enum):
    tree = "tree"
    json = "json"


class ReportFormat(str, enum.Enum):
    md = "md"
    html = "html"


def _thresholds(
    low_confidence: float, high_tokens: float, slow_ms: float, low_quality: float
) -> WarningThresholds:
    return WarningThresholds(
        low_confidence=low_confidence, high_tokens=high_tokens, slow_ms=slow_ms, low_quality=low_quality
    )


_W = {option.name: option.default for option in OPTIONS["warnings"]}


@traces_app.command("show")
def show(
    identifier: Annotated[str, typer.Argument(help="Trace id, run id or span id.")],
    tenant: Tenant = "",
    bottleneck_share: BottleneckShare = 0.2,
    low_confidence: LowConfidence = _W["low_confidence"],
    high_tokens: HighTokens = _W["high_tokens"],
    slow_ms: SlowMs = _W["slow_ms"],
    low_quality: LowQuality = _W["low_quality"],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Annotated[
        ViewFormat, typer.Option("--format", "-f", help="tree (terminal) or json.")
    ] = ViewFormat.tree,
) -> None:
    """Show a run as a tree: per-step timing, tokens, cost, errors, warnings and bottlenecks."""
    from spanhouse.collector.debug.trace import fetch_trace
    from spanhouse.collector.debug.views import rich_tree, trace_document

    thresholds = _thresholds(low_confidence, high_tokens, slow_ms, low_quality)
    with read_or_fail(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, api_key=api_key
    ) as reader:
        trace = fetch_trace(reader, identifier, tenant=tenant, thresholds=thresholds)
    if fmt is ViewFormat.json:
        sys.stdout.write(
            json.dumps(json_value(trace_document(trace, bottleneck_share)), ensure_ascii=False) + "\n"
        )
        return
    out = Console(width=max(Console().width, 120))
    out.print(rich_tree(trace, bottleneck_share))
    bottlenecks = trace.bottlenecks(bottleneck_share)
    if bottlenecks:
        out.print(
            "bottlenecks: "
            + ", ".join(f"{b.span.label} ({b.critical_ms:,.1f} ms, {b.share:.0%})" for b in bottlenecks)
        )
    for span in trace.errors:
        out.print(f"[red]error[/red] {span.label}: {span.error_type}: {span.error_message}")


@traces_app.command("compare")
def compare(
    identifiers: Annotated[list[str], typer.Argument(help="Two or more trace or run ids.")],
    tenant: Tenant = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Annotated[
        ViewFormat, typer.Option("--format", "-f", help="tree (tables) or json.")
    ] = ViewFormat.tree,
) -> None:
    """Compare runs: outcome, agent, models, tokens, cost, duration, and step by step."""
    from spanhouse.collector.debug.trace import fetch_trace
    from spanhouse.collector.debug.views import comparison_document

    if len(identifiers) < 2:
        _fail("give at least two trace or run ids to compare")
    with read_or_fail(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, api_key=api_key
    ) as reader:
        traces = [fetch_trace(reader, i, tenant=tenant) for i in identifiers]
    document = comparison_document(traces)
    if fmt is ViewFormat.json:
        sys.stdout.write(json.dumps(json_value(document), ensure_ascii=False) + "\n")
        return
    out = Console(width=max(Console().width, 120))
    runs = document["runs"]
    columns = list(runs[0])
    render(
        QueryResult(tuple(columns), [tuple(r[c] for c in columns) for r in runs]),
        OutputFormat.table,
        title="runs",
        console=out,
    )
    steps = Table(title="steps (duration ms; * differs)")
    steps.add_column("step")
    for ident in identifiers:
        steps.add_column(ident[:16], justify="right")
    for row in document["steps"]:
        cells = []
        for duration, failed, model in zip(row["duration_ms"], row["failed"], row["models"], strict=True):
            if duration is None:
                cells.append("—")
            else:
                cells.append(f"{duration:,.1f}{' ✗' if failed else ''}{' ' + model if model else ''}")
        name = f"{'* ' if row['differs'] else ''}{row['kind']}: {row['step']}" + (
            f" #{row['occurrence'] + 1}" if row["occurrence"] else ""
        )
        steps.add_row(name, *cells)
    out.print(steps)
    for line in document["differences"] or ["no differences in outcome, models, steps, tokens or duration"]:
        out.print(f"- {line}")


@traces_app.command("report")
def report(
    identifier: Annotated[Optional[str], typer.Argument(help="Run or trace id (omit with --agent).")] = None,  # noqa: UP045
    agent: Annotated[str, typer.Option(help="Report on this agent instead of one run.")] = "",
    since: Annotated[OptionalTime, typer.Option(help="Start of the range (UTC), with --agent.")] = None,
    until: Annotated[OptionalTime, typer.Option(help="End of the range (UTC), with --agent.")] = None,
    tenant: Tenant = "",
    bottleneck_share: BottleneckShare = 0.2,
    output: Annotated[
        OptionalPath, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="md or html.")] = ReportFormat.md,
) -> None:
    """A debugging report for one run or one agent, as Markdown or HTML."""
    from spanhouse.collector.debug.document import to_html, to_markdown
    from spanhouse.collector.debug.trace import fetch_trace
    from spanhouse.collector.debug.views import agent_report_document, run_report_document

    if bool(identifier) == bool(agent):
        _fail("give either a run or trace id, or --agent NAME")
    with read_or_fail(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, api_key=api_key
    ) as reader:
        if agent:
            document = agent_report_document(reader, agent, tenant=tenant, since=since, until=until)
        else:
            document = run_report_document(
                fetch_trace(reader, identifier or "", tenant=tenant), bottleneck_share
            )
    text = to_html(document) if fmt is ReportFormat.html else to_markdown(document)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


@retention_app.callback()
def retention(
    ctx: typer.Context,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
) -> None:
    """Show what each table keeps: TTL, rows, bytes, oldest and newest day."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        target = resolve_target(data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url)
        if target.api_url is not None:
            document = call_api(target.api_url, "GET", "/v1/retention", api_key=api_key)
            result = QueryResult(tuple(document["columns"]), [tuple(r) for r in document["rows"]])
        else:
            with open_target_store(target) as store, store_reader(store) as reader:
                result = retention_view(reader)
    except SpanhouseError as exc:
        _fail(str(exc))
    render(result, fmt, title="retention")


@retention_app.command("set")
def retention_set(
    table: Annotated[str, typer.Argument(help="One of: " + ", ".join(RETENTION_TABLES))],
    keep: Annotated[str, typer.Argument(help="How long to keep rows: 30d, 12h, 2w, or 'forever'.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Set a table's TTL (ALTER TABLE ... MODIFY TTL); 'forever' removes it."""
    try:
        target = resolve_target(data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url)
        if target.api_url is not None:
            body = {"table": table, "keep": keep}
            document = call_api(target.api_url, "POST", "/v1/retention", body, api_key=api_key)
            seconds = document["keep_seconds"] or 0
        else:
            with open_target_store(target) as store:
                seconds = set_retention(store, table, keep)
    except SpanhouseError as exc:
        _fail(str(exc))
    console.print(f"{table}: keep {'forever' if not seconds else f'{seconds} s ({seconds / 86400:g} days)'}")
