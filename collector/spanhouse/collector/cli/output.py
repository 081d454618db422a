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
        console = console or Console()
        cells = [[_cell(value) for value in row] for row in result.rows]
        if _natural_width(result.columns, cells) > console.width and len(cells) <= VERTICAL_MAX_ROWS:
            console.print(_vertical_table(result.columns, cells, title))
            return
        table = Table(title=title, show_lines=False)
        for column in result.columns:
            table.add_column(column, no_wrap=True)
        for row in cells:
            table.add_row(*row)
        # Too wide for the terminal: print wide lines (like psql) rather than fold every cell.
        needed = _natural_width(result.columns, cells)
        if needed > console.width:
            console = Console(file=console.file, width=needed)
        console.print(table)


# Results with this few rows that do not fit the terminal are printed one field per line.
VERTICAL_MAX_ROWS = 3


def _natural_width(columns: tuple[str, ...], cells: list[list[str]]) -> int:
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    return sum(widths) + 3 * len(widths) + 1


def _vertical_table(columns: tuple[str, ...], cells: list[list[str]], title: str | None) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("field", style="bold")
    for index in range(len(cells)):
        table.add_column(f"row {index + 1}" if len(cells) > 1 else "value", overflow="fold")
    for position, name in enumerate(columns):
        table.add_row(name, *(row[position] for row in cells))
    return table


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    converted = json_value(value)
    return converted if isinstance(converted, str) else json.dumps(converted, ensure_ascii=False)
