"""Rows as Arrow tables: the form the collector queues and inserts.

ClickHouse (chDB or a server) reads an Arrow table in C++, column by column, where
clickhouse-connect's row path walks every value in Python (a Map value costs a dict walk per
row): MEASUREMENTS.md puts the Arrow insert at twice the rows per second of the best column
insert, for half the CPU. The conversion here is the one Python pass left: per column one
`pyarrow.array` call, and per Map column one walk that lays every key and value into two flat
lists beside an offsets list, which pyarrow turns into a MapArray without looking at a dict again.

Each table's Arrow schema follows from its row record in rows.py (a field's type annotation
picks the Arrow type), so a column added to a record is converted without a change here;
tests/integration/test_schema.py checks the records against the DDL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, get_type_hints

import pyarrow as pa

from spanhouse.collector.rows import (
    AGENT_STEPS_COLUMNS,
    OTEL_TRACES_COLUMNS,
    SCORES_COLUMNS,
    RowBatch,
    ScoreRow,
    StepRow,
    TraceRow,
)

__all__ = ["TABLES", "ArrowBatch", "arrow_table", "to_arrow"]

_STRING_MAP = pa.map_(pa.string(), pa.string())
_NANOS = pa.timestamp("ns")
# DateTime64(9) columns: their rows hold nanoseconds since the epoch (an Arrow int64 would be
# read as seconds).
_TIME_FIELDS = frozenset({"Timestamp", "Events_Timestamp"})

Converter = Callable[[list[Any]], pa.Array]


def _map_array(maps: list[dict[str, str]]) -> pa.Array:
    offsets = [0]
    keys: list[str] = []
    values: list[str] = []
    end = 0
    for one in maps:
        keys += one
        values += one.values()
        end += len(one)
        offsets.append(end)
    return pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(keys, pa.string()), pa.array(values, pa.string())
    )


def _map_list_array(lists: list[list[dict[str, str]]]) -> pa.Array:
    offsets = [0]
    maps: list[dict[str, str]] = []
    for one in lists:
        maps += one
        offsets.append(len(maps))
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), _map_array(maps))


def _plain(arrow_type: pa.DataType) -> Converter:
    return lambda values: pa.array(values, arrow_type)


def _converter(name: str, annotation: Any) -> Converter:
    """The conversion of one row field, chosen by its type annotation."""
    text = str(annotation)
    if "dict" in text:  # StringMap, or a list of them
        return _map_list_array if text.startswith("list") else _map_array
    if text.startswith("list"):
        item = _NANOS if name in _TIME_FIELDS else pa.int64() if "int" in text else pa.string()
        return _plain(pa.list_(item))
    if annotation is bool:
        return _plain(pa.bool_())
    if annotation is int:
        return _plain(_NANOS if name in _TIME_FIELDS else pa.int64())
    if annotation is str:
        return _plain(pa.string())
    if "float" in text:  # float or float | None
        return _plain(pa.float64())
    raise TypeError(f"row field {name} has a type with no Arrow conversion: {text}")


@dataclass(frozen=True)
class _Table:
    """How the rows of one table become an Arrow table."""

    name: str
    columns: tuple[str, ...]
    converters: tuple[Converter, ...]

    def arrow(self, rows: Sequence[tuple[Any, ...]]) -> pa.Table:
        if not rows:
            return pa.table(
                {name: convert([]) for name, convert in zip(self.columns, self.converters, strict=True)}
            )
        values = list(zip(*rows, strict=True))
        if len(values) != len(self.columns):
            raise ValueError(f"rows have {len(values)} values, {self.name} expects {len(self.columns)}")
        arrays = [convert(list(column)) for convert, column in zip(self.converters, values, strict=True)]
        return pa.Table.from_arrays(arrays, names=list(self.columns))


def _table(name: str, record: Any, columns: tuple[str, ...]) -> _Table:
    hints = get_type_hints(record)
    return _Table(name, columns, tuple(_converter(field, hints[field]) for field in record._fields))


TABLES: dict[str, _Table] = {
    "otel_traces": _table("otel_traces", TraceRow, OTEL_TRACES_COLUMNS),
    "agent_steps": _table("agent_steps", StepRow, AGENT_STEPS_COLUMNS),
    "scores": _table("scores", ScoreRow, SCORES_COLUMNS),
}


def arrow_table(table: str, rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """`rows` of `table` (records of rows.py, or plain tuples in their field order) as Arrow."""
    return TABLES[table].arrow(rows)


@dataclass(frozen=True)
class ArrowBatch:
    """The rows of one request (or of a group of them) per table, ready to insert; a table with
    no rows is None. `spans` counts the otel_traces rows."""

    traces: pa.Table | None
    steps: pa.Table | None
    scores: pa.Table | None

    @property
    def spans(self) -> int:
        return self.traces.num_rows if self.traces is not None else 0

    def tables(self) -> list[tuple[str, pa.Table]]:
        """(table name, rows) of every table that has rows, in insert order."""
        named = (("otel_traces", self.traces), ("agent_steps", self.steps), ("scores", self.scores))
        return [(name, table) for name, table in named if table is not None and table.num_rows]

    @classmethod
    def concat(cls, batches: Sequence[ArrowBatch]) -> ArrowBatch:
        """One batch of every row of `batches`, in order (the chunks are kept, not copied)."""

        def joined(tables: list[pa.Table | None]) -> pa.Table | None:
            present = [t for t in tables if t is not None and t.num_rows]
            if not present:
                return None
            return present[0] if len(present) == 1 else pa.concat_tables(present)

        return cls(
            joined([b.traces for b in batches]),
            joined([b.steps for b in batches]),
            joined([b.scores for b in batches]),
        )


def to_arrow(batch: RowBatch) -> ArrowBatch:
    """The rows of `batch` as Arrow tables."""
    return ArrowBatch(
        arrow_table("otel_traces", batch.traces) if batch.traces else None,
        arrow_table("agent_steps", batch.steps) if batch.steps else None,
        arrow_table("scores", batch.scores) if batch.scores else None,
    )
