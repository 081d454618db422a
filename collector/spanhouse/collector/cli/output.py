"""Renders query results as a rich table, JSON or CSV."""

from __future__ import annotations

import csv
import enum
import io
import json
import sys

from rich.console import Console
from rich.table import Table

from spanhouse.collector.jsonrows import json_value
from spanhouse.collector.store.client import QueryResult


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    csv = "csv"


def render(
    result: QueryResult, fmt: OutputFormat, *, title: str | None = None, console: Console | None = None
) -> None:
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(json_value(result.dicts()), ensure_ascii=False) + "\n")
    elif fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(result.columns)
        writer.writerows([[_cell(v) for v in row] for row in result.rows])
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(title=title, show_lines=False)
        for column in result.columns:
            table.add_column(column, overflow="fold")
        for row in result.rows:
            table.add_row(*(_cell(value) for value in row))
        (console or Console()).print(table)


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    converted = json_value(value)
    return converted if isinstance(converted, str) else json.dumps(converted, ensure_ascii=False)
