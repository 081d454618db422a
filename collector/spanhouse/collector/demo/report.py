"""Prints the demo's report: what was sent, what was stored, and per-agent figures from SQL."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from spanhouse.collector.cli.output import OutputFormat
from spanhouse.collector.demo.run import DemoResult
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


def print_demo(result: DemoResult, fmt: OutputFormat) -> None:
    overview = result.overview.dicts()[0]
    agents = result.agents.dicts()
    if fmt is not OutputFormat.table:
        document = {
            "data_dir": str(result.data_dir),
            "spans_sent": result.spans_sent,
            "spans_stored": result.spans_stored,
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
        "Tables: otel_traces (raw spans, OpenTelemetry clickhouseexporter schema), agent_steps (typed steps)."
    )
    if result.spans_stored != result.spans_sent:
        out.print(
            f"[red]warning:[/red] {result.spans_sent - result.spans_stored} span(s) were not stored in time"
        )


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
