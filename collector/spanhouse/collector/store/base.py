"""The Store protocol: what every part of the collector may ask of ClickHouse, whichever it is.

Two implementations: `ClickHouseStore` (store/client.py: the embedded chDB store, or one server
connection) and `ReconnectingStore` (store/reconnecting.py: a server that may be down at start
or at any time). Code that reads or writes takes a `Store`, so the type checker holds every
caller to one signature (a caller passing `settings=` to a store without it is caught there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    import pyarrow as pa


class QueryResult(NamedTuple):
    """Column names and rows of one query."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class Store(Protocol):
    """One ClickHouse database. Errors are spanhouse's (StoreUnavailable, QueryError, StoreError),
    never the driver's."""

    description: str  # for messages: "embedded store at /data", "ClickHouse at http://u:***@h"
    embedded: bool

    def query(
        self,
        sql: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> QueryResult:
        """Run one query; `parameters` bind its {name:Type} placeholders."""
        ...

    def command(
        self,
        sql: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Run one statement that returns no rows (DDL, ALTER, INSERT ... SELECT)."""
        ...

    def insert(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        dedup_token: str | None = None,
    ) -> None:
        """Column-oriented insert; a repeated `dedup_token` makes a retried block count once."""
        ...

    def insert_arrow(self, table: str, data: pa.Table, *, dedup_token: str | None = None) -> None:
        """Insert an Arrow table (columns named as the table's); ClickHouse reads it in C++, which
        is the collector's fast path. A repeated `dedup_token` makes a retried block count once."""
        ...

    def migrate(self) -> list[str]:
        """Apply every migration not yet applied; returns their names."""
        ...

    def close(self) -> None:
        """Release the connection (or the chDB data path). Idempotent."""
        ...
