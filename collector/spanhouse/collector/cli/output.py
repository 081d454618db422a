"""Renders query results as a rich table, JSON or CSV.

Tables are for people: numbers are formatted by what their column holds (milliseconds, shares as
percentages, dollars, thousands separators), NULL shows as "—", and a table never runs past
the terminal: too wide, it is printed in column groups that each start with the first (key)
column, or one field per line for a result of a few rows. JSON and CSV are for scripts: values
stay raw, and CSV writes NULL as an empty field. An empty result says "no rows" under its headers.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from spanhouse.collector.errors import SpanhouseError
from spanhouse.collector.jsonrows import json_value
from spanhouse.collector.reports import Reader
from spanhouse.collector.store.client import QueryResult

# Results with this few rows that do not fit the terminal are printed one field per line.
VERTICAL_MAX_ROWS = 3
NO_ROWS = "no rows"


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    csv = "csv"


# One row of defaults whatever the query returns, so its column names come back (a SELECT, which the
# read path accepts). The query is the caller's, already run once as it is; values stay parameters.
_ONE_ROW = "SELECT q.* FROM (SELECT 1) AS one_row LEFT JOIN (\n{query}\n) AS q ON 1 = 1 LIMIT 1"


def with_columns(reader: Reader, sql: str, parameters: dict[str, Any], result: QueryResult) -> QueryResult:
    """`result`, with its column names even when it has no rows: embedded chDB returns none for an
    empty result, so they are asked for once more with one row of defaults (left empty if refused)."""
    if result.rows or result.columns:
        return result
    try:
        named = reader.query(_ONE_ROW.format(query=sql.strip().rstrip(";")), parameters)
    except SpanhouseError:
        return result
    return QueryResult(named.columns, [])


def render(
    result: QueryResult, fmt: OutputFormat, *, title: str | None = None, console: Console | None = None
) -> None:
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(json_value(result.dicts()), ensure_ascii=False) + "\n")
    elif fmt is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(result.columns)
        writer.writerows([[csv_cell(v) for v in row] for row in result.rows])
        sys.stdout.write(buffer.getvalue())
    else:
        render_table(result, title=title, console=console or Console())


def render_table(result: QueryResult, *, title: str | None, console: Console) -> None:
    columns = list(result.columns)
    cells = [
        [table_cell(name, value) for name, value in zip(columns, row, strict=True)] for row in result.rows
    ]
    numeric = [_numeric(result.rows, i) for i in range(len(columns))]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)]
    fits = _table_width(widths) <= console.width or len(columns) <= 1
    if fits:
        console.print(_table(title, columns, cells, numeric, range(len(columns))))
    elif not cells:
        heading = f"{title}: " if title else ""
        console.print(f"{heading}{NO_ROWS} (columns: {', '.join(columns)})", soft_wrap=True, markup=False)
        return
    elif len(cells) <= VERTICAL_MAX_ROWS:
        console.print(_vertical_table(columns, cells, title))
    else:
        for group in column_groups(widths, console.width):
            first, last = group[1] + 1, group[-1] + 1
            shown = f"column {first}" if first == last else f"columns {first}-{last}"
            heading = f"{title}, {shown}" if title else shown
            console.print(f"{heading} of {len(columns)} (column 1 repeated)", markup=False, style="bold")
            console.print(_table(None, columns, cells, numeric, group))
    if not cells:
        console.print(NO_ROWS)


def column_groups(widths: Sequence[int], limit: int) -> list[list[int]]:
    """Column indexes in groups that each fit `limit` characters, every group led by column 0."""
    groups: list[list[int]] = []
    current = [0]
    for index in range(1, len(widths)):
        if len(current) > 1 and _table_width([widths[i] for i in (*current, index)]) > limit:
            groups.append(current)
            current = [0]
        current.append(index)
    groups.append(current)
    return groups


def _table_width(widths: Sequence[int]) -> int:
    """Characters of a rich table with these column widths (one space of padding each side)."""
    return sum(widths) + 3 * len(widths) + 1


def _table(
    title: str | None,
    columns: list[str],
    cells: list[list[str]],
    numeric: list[bool],
    shown: Sequence[int],
) -> Table:
    table = Table(title=title, show_lines=False)
    for i in shown:
        table.add_column(columns[i], justify="right" if numeric[i] else "left", overflow="fold")
    for row in cells:
        table.add_row(*(row[i] for i in shown))
    return table


def _vertical_table(columns: list[str], cells: list[list[str]], title: str | None) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("field", style="bold")
    for index in range(len(cells)):
        table.add_column(f"row {index + 1}" if len(cells) > 1 else "value", overflow="fold")
    for position, name in enumerate(columns):
        table.add_row(name, *(row[position] for row in cells))
    return table


def _numeric(rows: list[tuple], index: int) -> bool:
    values = [row[index] for row in rows if row[index] is not None]
    return bool(values) and all(_is_number(v) for v in values)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---- cells -----------------------------------------------------------------------------------


def table_cell(column: str, value: Any) -> str:
    """A value as a person reads it in a table, by what its column holds."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if _is_number(value):
        return _number(column.lower(), value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    converted = json_value(value)
    return converted if isinstance(converted, str) else json.dumps(converted, ensure_ascii=False)


def _number(column: str, value: float) -> str:
    if column.endswith("_ms"):
        return f"{value:,.1f}"
    if "rate" in column or "share" in column:
        return f"{value:.1%}"
    words = column.split("_")
    if "usd" in words or "cost" in words:
        return _dollars(value)
    if isinstance(value, int):
        return str(value) if column.endswith(("id", "version", "port")) else f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def _dollars(value: float) -> str:
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount == 0:
        return "$0"
    if amount < 0.01:
        return f"{sign}${amount:.6f}".rstrip("0")
    return f"{sign}${amount:,.4f}"


def csv_cell(value: Any) -> Any:
    """A raw value for CSV: NULL is an empty field, lists and maps are JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return value
    converted = json_value(value)
    return converted if isinstance(converted, str) else json.dumps(converted, ensure_ascii=False)
