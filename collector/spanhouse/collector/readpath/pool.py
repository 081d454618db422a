"""Readers' own connections, bounded in number, and a per-tenant limit on queries in flight.

Reads never use the writer's connection: each reader is its own clickhouse-connect client (on the
embedded store, its own chDB session on the same data path; on a server, its own HTTP client,
ideally as a restricted user). Queries on different clients run concurrently, so an insert never
waits on a user query, and no setting or ``USE`` of a reader reaches the writer's session.

A client that saw any failure is closed and replaced before its next use, so whatever a failed
query may have left in its session (a half-applied setting, a stream) dies with it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from spanhouse.collector.errors import QueryRefused, ReadBusy

logger = logging.getLogger(__name__)


class ClientPool:
    """At most `size` reader clients, opened on first need by `open_client`."""

    def __init__(self, open_client: Callable[[], Any], size: int, *, wait_s: float) -> None:
        if size < 1:
            raise ValueError("a read pool needs at least one client")
        self.open_client = open_client
        self.size = size
        self.wait_s = wait_s
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._free = threading.BoundedSemaphore(size)
        self._closed = False
        self._lock = threading.Lock()
        self._clients: list[Any] = []

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A client for one query; ReadBusy when none frees up within `wait_s`."""
        if not self._free.acquire(timeout=self.wait_s):
            raise ReadBusy(
                f"all {self.size} read connections are busy; retry in a few seconds "
                "(or raise --max-concurrent-queries)"
            )
        client = None
        healthy = False
        try:
            client = self._take()
            yield client
            healthy = True
        except QueryRefused:  # refused before anything ran: the session is as it was
            healthy = True
            raise
        finally:
            if client is not None:
                self._give_back(client, healthy)
            self._free.release()

    def close(self) -> None:
        """Close every client; later queries fail. Idempotent."""
        with self._lock:
            self._closed = True
            clients, self._clients = self._clients, []
        for client in clients:
            _close(client)

    def _take(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._closed:
                raise ReadBusy("the collector is shutting down")
        client = self.open_client()
        with self._lock:
            self._clients.append(client)
        return client

    def _give_back(self, client: Any, healthy: bool) -> None:
        with self._lock:
            keep = healthy and not self._closed
            if not keep and client in self._clients:
                self._clients.remove(client)
        if keep:
            self._idle.put(client)
        else:
            _close(client)


class TenantSlots:
    """At most `per_tenant` queries of one tenant at a time. One more waits up to `wait_s` for a
    slot (a page of the web UI asks for several reports at once) and is then refused with ReadBusy."""

    def __init__(self, per_tenant: int, *, wait_s: float = 0.0) -> None:
        if per_tenant < 1:
            raise ValueError("each tenant needs at least one query slot")
        self.per_tenant = per_tenant
        self.wait_s = wait_s
        self._running: dict[str, int] = {}
        self._freed = threading.Condition()

    @contextmanager
    def slot(self, tenant: str) -> Iterator[None]:
        with self._freed:
            if not self._freed.wait_for(lambda: self._running.get(tenant, 0) < self.per_tenant, self.wait_s):
                raise ReadBusy(
                    f"{self._running[tenant]} queries of this tenant are already running (the limit is "
                    f"{self.per_tenant}) and none ended within {self.wait_s:g} s; retry when one has finished"
                )
            self._running[tenant] = self._running.get(tenant, 0) + 1
        try:
            yield
        finally:
            with self._freed:
                left = self._running[tenant] - 1
                if left:
                    self._running[tenant] = left
                else:
                    del self._running[tenant]
                self._freed.notify_all()


def _close(client: Any) -> None:
    try:
        client.close()
    except Exception:  # a broken client is being dropped anyway
        logger.debug("closing a reader client failed", exc_info=True)
