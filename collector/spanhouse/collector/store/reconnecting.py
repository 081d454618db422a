"""A ClickHouse server that may be down when the collector starts or at any time after.

The collector must accept (into its WAL) and acknowledge spans while ClickHouse is away, so in
server mode it does not need a connection to start: this handle connects and applies the
migrations on first use, and every call while the server is unreachable raises
StoreUnavailable, which the exporter answers with backoff and the API with 503.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from spanhouse.collector.store.base import QueryResult
from spanhouse.collector.store.client import ClickHouseStore, _redact, open_store

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)


class ReconnectingStore:
    """A Store on a ClickHouse server that connects (and migrates) on first use, and again after
    a failed connection attempt; calls while the server is away raise StoreUnavailable."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dsn = url
        self.description = f"ClickHouse at {_redact(url)}"
        self.embedded = False
        self._store: ClickHouseStore | None = None
        self._lock = threading.Lock()

    def _connected(self) -> ClickHouseStore:
        with self._lock:
            if self._store is None:
                store = open_store(url=self.url)
                try:
                    applied = store.migrate()
                except Exception:
                    store.close()
                    raise
                if applied:
                    logger.info("schema of %s: applied %s", self.description, ", ".join(applied))
                logger.info("connected to %s", self.description)
                self._store = store
            return self._store

    def query(
        self, sql: str, parameters: dict[str, Any] | None = None, *, settings: dict[str, Any] | None = None
    ) -> QueryResult:
        return self._connected().query(sql, parameters, settings=settings)

    def command(
        self, sql: str, parameters: dict[str, Any] | None = None, *, settings: dict[str, Any] | None = None
    ) -> None:
        self._connected().command(sql, parameters, settings=settings)

    def insert(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        *,
        dedup_token: str | None = None,
    ) -> None:
        self._connected().insert(table, columns, column_names, dedup_token=dedup_token)

    def insert_arrow(self, table: str, data: pa.Table, *, dedup_token: str | None = None) -> None:
        self._connected().insert_arrow(table, data, dedup_token=dedup_token)

    def migrate(self) -> list[str]:
        return self._connected().migrate()

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
