"""GET /healthz: 503 with the reason once the store has refused inserts for too long.

A load balancer or Kubernetes takes a collector out of rotation on 503. Inserts failing for a
moment (a merge, a restart of ClickHouse) are absorbed by the WAL and only reported; past
`unhealthy_after_s` the collector says why it is unhealthy: the last insert error.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from spanhouse.collector import jsonrows
from spanhouse.collector.errors import StoreError
from spanhouse.collector.httpserver import Handler, Request, Response

logger = logging.getLogger(__name__)

DEFAULT_UNHEALTHY_AFTER_S = 60.0


class InsertState(Protocol):
    """What the exporter tells about its inserts."""

    failing_since: float | None  # time.monotonic() of the first failure of the current streak
    last_error: str | None


class Pingable(Protocol):
    description: str

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> Any: ...


def health_handler(
    store: Pingable | None, inserts: InsertState | None, unhealthy_after_s: float = DEFAULT_UNHEALTHY_AFTER_S
) -> Handler:
    def healthz(request: Request) -> Response:
        failing_for = _failing_for(inserts)
        if failing_for is not None and failing_for > unhealthy_after_s:
            reason = (
                f"inserts have failed for {failing_for:.0f} s (the limit is {unhealthy_after_s:g} s): "
                f"{inserts.last_error if inserts else ''}"
            )
            return _json(503, {"status": "unhealthy", "reason": reason})
        try:
            if store is not None:
                store.query("SELECT 1")
        except StoreError as exc:
            return _json(503, {"status": "unhealthy", "reason": str(exc), "store": str(exc)})
        document: dict[str, Any] = {"status": "ok", "store": store.description if store else ""}
        if failing_for is not None:
            document["inserts"] = f"failing for {failing_for:.0f} s: {inserts.last_error if inserts else ''}"
        return _json(200, document)

    return healthz


def _failing_for(inserts: InsertState | None) -> float | None:
    since = inserts.failing_since if inserts is not None else None
    return None if since is None else time.monotonic() - since


def _json(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))
