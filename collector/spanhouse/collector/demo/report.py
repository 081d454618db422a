"""Prints the demo's progress and report: what was sent, what was stored, per-agent figures from SQL."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from spanhouse.collector.cli.output import OutputFormat
from spanhouse.collector.demo.delivery import bsp_queue_size
from spanhouse.collector.demo.run import DemoResult
from spanhouse.collector.demo.run import Progress as DemoFigures
from spanhouse.collector.jsonrows import json_value

_AGENT_COLUMNS = (
    ("agent", "agent", str),
    ("executions", "executions", str),
    ("success_rate", "success", lambda v: "—" if v is None else f"{v:.0%}"),
    ("steps", "steps", str),
    ("input_tokens", "tokens in", lambda v: f"{v:,}"),
    ("output_tokens", "tokens out", lambda v: f"{v:,}"),
    ("cost_usd", "cost USD", lambda v: "unknown" if v is None else f"{v:.4f}"),
    ("p50_ms", "p50 ms", lambda v: "—" if v is None else f"{v:,.0f}"),
    ("p95_ms", "p95 ms", lambda v: "—" if v is None else f"{v:,.0f}"),
)


class DemoProgress:
    """Two bars on stderr while the demo runs: agent runs done, then spans stored."""

    def __init__(self, console: Console) -> None:
        self._bars = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._runs = self._bars.add_task("agent runs", total=None, detail="")
        self._stored = self._bars.add_task("spans stored", total=None, detail="")

    def __enter__(self) -> DemoProgress:
        self._bars.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bars.stop()

    def __call__(self, figures: DemoFigures) -> None:
        self._bars.update(
            self._runs,
            completed=figures.runs_done,
            total=figures.runs,
            detail=f"{figures.spans_sent:,} spans sent",
        )
        if figures.spans_stored is None:
            return
        self._bars.update(
            self._stored,
            completed=figures.spans_stored,
            total=max(figures.spans_delivered, 1),
            detail=f"{figures.spans_delivered:,} acknowledged",
        )


def print_demo(result: DemoResult, fmt: OutputFormat) -> None:
    overview = result.overview.dicts()[0]
    agents = result.agents.dicts()
    if fmt is not OutputFormat.table:
        document = {
            "data_dir": str(result.data_dir),
            "spans_sent": result.spans_sent,
            "spans_stored": result.spans_stored,
            "spans_dropped_by_sdk": result.spans_dropped,
            "spans_not_delivered": result.spans_undelivered,
            "spans_not_yet_stored": result.spans_pending,
            "warnings": delivery_warnings(result),
            "overview": overview,
            "agents": agents,
        }
        sys.stdout.write(json.dumps(json_value(document)) + "\n")
        return
    out = Console(width=max(Console().width, 110))
    out.print(
        f"\n[bold]spanhouse demo[/bold]: {result.spans_sent} spans sent over OTLP, "
        f"{result.spans_stored} stored in {result.seconds:.1f} s\n"
    )
    out.print(
        f"runs {overview['runs']}  success {overview['success_rate']:.0%}  "
        f"steps {overview['steps']}  tokens {overview['input_tokens']:,} in / {overview['output_tokens']:,} out  "
        f"cost ${overview['cost_usd'] or 0:.4f}  run p50 {overview['run_p50_ms']:,.0f} ms  "
        f"p95 {overview['run_p95_ms']:,.0f} ms"
    )
    table = Table(title="Per agent", padding=(0, 1))
    for _, header, _ in _AGENT_COLUMNS:
        table.add_column(header, justify="left" if header == "agent" else "right", no_wrap=True)
    for row in agents:
        table.add_row(*(show(row[key]) for key, _, show in _AGENT_COLUMNS))
    out.print(table)
    if overview["unpriced_calls"]:
        out.print(f"{overview['unpriced_calls']} model call(s) used a model with no known price.")
    data_dir = shlex.quote(str(result.data_dir))
    command = _spanhouse_command()
    out.print(
        f"\nThe data lives in {result.data_dir} (embedded ClickHouse). Query it:\n"
        f"  {command} sql --data-dir {data_dir} "
        '"SELECT AgentName, count() AS steps, sum(TotalTokens) AS tokens FROM agent_steps GROUP BY AgentName"\n'
        f"  {command} report agents --data-dir {data_dir}\n"
        "Tables: otel_traces (raw spans, OpenTelemetry clickhouseexporter schema), agent_steps (typed steps).",
        soft_wrap=True,  # the commands stay whole lines, to copy and paste
        markup=False,
        highlight=False,
    )
    for warning in delivery_warnings(result):
        out.print(f"[red]warning:[/red] {warning}", soft_wrap=True)


def delivery_warnings(result: DemoResult) -> list[str]:
    """Why spans are missing, each cause on its own: the SDK, the network, or the store."""
    found = []
    if result.spans_dropped:
        found.append(
            f"{result.spans_dropped} span(s) were dropped by the OpenTelemetry SDK before export: its "
            f"queue (OTEL_BSP_MAX_QUEUE_SIZE={bsp_queue_size()}) was full. Raise it for bursty agents "
            "(see the README on OTEL_BSP_*)."
        )
    if result.spans_undelivered:
        found.append(
            f"{result.spans_undelivered} span(s) could not be delivered to the collector: the OTLP "
            "exporter gave up (its log above says why)."
        )
    if result.spans_pending:
        found.append(
            f"{result.spans_pending} span(s) were acknowledged by the collector but not stored yet: the "
            f"store is slow. They are in the write-ahead log and are stored when a collector next "
            f"starts with --data-dir {shlex.quote(str(result.data_dir))}."
        )
    return found


def _spanhouse_command() -> str:
    """How to run `spanhouse` again from this shell: by name when it is on PATH, else by path
    (e.g. from bootstrap.py's .venv, which is not activated)."""
    invoked = Path(sys.argv[0])
    if invoked.name == "__main__.py":
        return f"{shlex.quote(sys.executable)} -m spanhouse.collector"
    on_path = shutil.which("spanhouse")
    if on_path and Path(on_path).resolve() == invoked.resolve():
        return "spanhouse"
    return shlex.quote(str(invoked))
