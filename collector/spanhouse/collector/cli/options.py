"""Options and error exit shared by every `spanhouse` command, so they read and fail alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape

from spanhouse.collector.cli.access import open_reader
from spanhouse.collector.cli.output import OutputFormat
from spanhouse.collector.errors import SpanhouseError
from spanhouse.collector.reports import Reader, parse_time

console = Console(stderr=True)

DEFAULT_DATA_DIR = Path("spanhouse-data")

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="SPANHOUSE_DATA_DIR",
        help="Embedded store directory.",
        file_okay=False,
    ),
]
ClickHouseUrl = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at runtime
    typer.Option(
        "--clickhouse-url",
        envvar="SPANHOUSE_CLICKHOUSE_URL",
        help="ClickHouse server, e.g. http://user:password@host:8123/database (instead of the embedded store).",
    ),
]
CollectorUrl = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--collector-url", help="Go through a running collector's API, e.g. http://127.0.0.1:4318."),
]
Format = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
Since = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--since",
        help="Start of the range: an ISO-8601 date or time (UTC unless it has an offset), or a duration "
        "back from now, e.g. 2026-11-25, 2026-11-25T10:00:00, 1h, 7d. Default: everything stored.",
    ),
]
ServiceFilter = Annotated[
    str, typer.Option("--service", help="Only this service (service.name of the spans); default: every one.")
]
Until = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--until", help="End of the range (exclusive), written as --since. Default: no end."),
]


def time_range(since: str | None, until: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """--since and --until as times (None: unbounded); a bad one ends the command with the formats."""
    now = dt.datetime.now(dt.timezone.utc)
    try:
        start = parse_time(since, "--since", now=now) if since else None
        end = parse_time(until, "--until", now=now) if until else None
    except SpanhouseError as exc:
        fail(str(exc))
    return start, end


def fail(message: str) -> NoReturn:
    """Print `message` as the command's error and exit 2 (bad argument or refused request)."""
    # One line whatever the terminal width (logs and scripts grep it), and the message's own
    # brackets (`pip install 'spanhouse[collector]'`) printed as they are, not read as styles.
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


def parse_assignments(items: list[str] | None, flag: str = "--param") -> dict[str, str]:
    """`name=value` strings from a repeated option, as a dict; a malformed one ends the command."""
    parsed = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            fail(f"{flag} {item!r} must look like name=value")
        parsed[name] = value
    return parsed


@contextmanager
def read_or_fail(
    *,
    data_dir: Path,
    clickhouse_url: str | None = None,
    collector_url: str | None = None,
    api_key: str | None = None,
) -> Iterator[Reader]:
    """A reader on the data (collector API, server or embedded store); any error reaching or
    reading it ends the command with its message, as every read command does."""
    try:
        with open_reader(
            data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, api_key=api_key
        ) as reader:
            yield reader
    except SpanhouseError as exc:
        fail(str(exc))
