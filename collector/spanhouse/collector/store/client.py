"""One handle on ClickHouse, embedded (chDB) or remote (HTTP), with errors mapped at the boundary."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import clickhouse_connect
from clickhouse_connect.driver.exceptions import (
    DatabaseError,
    OperationalError,
)
from clickhouse_connect.driver.exceptions import (
    Error as ClickHouseDriverError,
)

from spanhouse.collector.errors import QueryError, StoreError, StoreLocked, StoreUnavailable
from spanhouse.collector.store.base import QueryResult, Store
from spanhouse.collector.store.migrations import migrate

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ClickHouseStore", "QueryResult", "Store", "open_store"]

logger = logging.getLogger(__name__)


class ClickHouseStore:
    """The Store of one ClickHouse database through clickhouse-connect: embedded chDB or a server.

    chDB runs inside this process and is not safe for concurrent calls, so every call
    holds a lock; a server connection is serialized the same way, which keeps one code path.
    """

    def __init__(self, client: Any, *, description: str, embedded: bool, dsn: str | None = None) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._closed = False
        self.description = description
        self.embedded = embedded
        self.dsn = dsn  # where more connections to the same store open (the read path's readers)

    def query(
        self,
        sql: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> QueryResult:
        parameters = _server_side(sql, parameters)
        with self._errors(), self._lock:
            result = self._client.query(sql, parameters=parameters, settings=settings)
        return QueryResult(tuple(result.column_names), list(result.result_rows))

    def command(
        self,
        sql: str,
        parameters: dict[str, Any] | None = None,
        *,
        settings: dict[str, Any] | None = None,
    ) -> None:
        parameters = _server_side(sql, parameters)
        with self._errors(), self._lock:
            self._client.command(sql, parameters=parameters, settings=settings)

    def insert(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        dedup_token: str | None = None,
    ) -> None:
        """Column-oriented insert; a repeated `dedup_token` makes a retried block count once."""
        settings = _insert_settings(dedup_token)
        with self._errors(), self._lock:
            self._client.insert(
                table,
                columns,
                column_names=list(column_names),
                column_oriented=True,
                settings=settings,
            )

    def insert_arrow(self, table: str, data: pa.Table, *, dedup_token: str | None = None) -> None:
        """Insert an Arrow table: clickhouse-connect sends it in Arrow format (to chDB through a
        file it reads, to a server over HTTP) and ClickHouse converts it column by column."""
        settings = _insert_settings(dedup_token)
        with self._errors(), self._lock:
            self._client.insert_arrow(table, data, settings=settings)

    def raw_query(self, sql: str, parameters: dict[str, Any] | None = None, *, fmt: str = "Native") -> bytes:
        """The result of `sql` as bytes in ClickHouse format `fmt` (export: no Python rows in between)."""
        parameters = _server_side(sql, parameters)
        with self._errors(), self._lock:
            return bytes(self._client.raw_query(sql, parameters=parameters, fmt=fmt))

    def raw_insert(
        self, table: str, data: bytes, *, fmt: str = "Native", dedup_token: str | None = None
    ) -> None:
        """Insert `data` (format `fmt`, e.g. from `raw_query`) into `table` as ClickHouse parses it."""
        settings = _insert_settings(dedup_token)
        with self._errors(), self._lock:
            self._client.raw_insert(table, insert_block=data, fmt=fmt, settings=settings)

    def migrate(self, *, cluster: str | None = None) -> list[str]:
        """Apply every pending migration (the cluster form with `cluster`); returns what ran."""
        return migrate(self, cluster=cluster)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._client.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise StoreUnavailable(f"{self.description} is unreachable: {exc}") from None
        except DatabaseError as exc:
            raise QueryError(str(exc).split("\n", 1)[0].strip()) from None
        except ClickHouseDriverError as exc:
            raise StoreError(str(exc)) from None


def open_store(*, data_dir: str | Path | None = None, url: str | None = None) -> ClickHouseStore:
    """Open the embedded store at `data_dir`, or the server at `url` (http[s]://user:pw@host:port/db)."""
    if (data_dir is None) == (url is None):
        raise ValueError("give exactly one of data_dir (embedded chDB) or url (ClickHouse server)")
    if url is not None:
        try:
            client = clickhouse_connect.get_client(dsn=url)
        except ClickHouseDriverError as exc:
            raise StoreUnavailable(f"cannot reach ClickHouse at {_redact(url)}: {exc}") from None
        return ClickHouseStore(client, description=f"ClickHouse at {_redact(url)}", embedded=False, dsn=url)
    assert data_dir is not None
    path = Path(data_dir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    holder = engine_holder(path / "chdb")
    if holder is not None and holder != os.getpid():
        raise StoreLocked(path, holder)  # before chDB prints its own "Cannot lock file" to stderr
    dsn = f"chdb://{path / 'chdb'}"
    try:
        client = clickhouse_connect.get_client(dsn=dsn)
    except Exception as exc:  # chDB raises plain RuntimeError when the path is held elsewhere
        raise StoreError(f"cannot open the embedded store at {path}: {exc}") from None
    return ClickHouseStore(client, description=f"embedded store at {path}", embedded=True, dsn=dsn)


def engine_holder(chdb_dir: Path) -> int | None:
    """The pid of the process that has the chDB directory open, or None when none has.

    The engine holds an flock on its `status` file (which names its PID) while it runs; a
    shared-lock attempt is refused exactly then, and takes nothing from anyone.
    """
    try:
        fd = os.open(chdb_dir / "status", os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            text = os.pread(fd, 256, 0).decode(errors="replace")
            found = re.search(r"PID:\s*(\d+)", text)
            return int(found.group(1)) if found else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


_PLACEHOLDER = re.compile(r"\{\w+:[^}]+\}")


def _server_side(sql: str, parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """`parameters` only when `sql` has a {name:Type} placeholder to bind them to.

    Given parameters and no placeholder, clickhouse-connect formats the query client-side with
    Python %-formatting, so a plain `LIKE '%x%'` would fail (or worse, be rewritten).
    """
    return parameters if parameters and _PLACEHOLDER.search(sql) else None


def _insert_settings(dedup_token: str | None) -> dict[str, Any]:
    """Settings of every insert. `distributed_foreground_insert`: an insert into a Distributed
    table (a cluster install) returns only once every shard holds its rows, so the WAL is never
    checkpointed past rows still queued on the receiving node; a plain table ignores it. A
    repeated `dedup_token` makes a retried block count once, in the materialized views' tables
    too (the rollups and attribution links): `deduplicate_blocks_in_dependent_materialized_views`
    is on by default only in recent ClickHouse releases, so it is set here."""
    settings: dict[str, Any] = {
        "distributed_foreground_insert": 1,
        "deduplicate_blocks_in_dependent_materialized_views": 1,
    }
    if dedup_token:
        settings["insert_deduplication_token"] = dedup_token
    return settings
