"""Retention endpoints: GET /v1/retention (what each table keeps), POST /v1/retention (set a TTL).

POST body: {"table": "otel_traces", "keep": "30d"} ("forever" removes the TTL).
"""

from __future__ import annotations

import json
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import operator_only
from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.errors import ConfigError, QueryError, StoreError
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.retention import retention_view, set_retention
from spanhouse.collector.store import Store


def retention_routes(store: Store, auth: ApiKeys) -> dict[tuple[str, str], Handler]:
    """Both routes need the operator key when keys are configured (see api/access.py)."""

    def view(request: Request) -> Response:
        try:
            result = retention_view(store)
        except StoreError as exc:
            return _json(503, {"error": str(exc)})
        return _json(200, {"columns": list(result.columns), "rows": result.rows})

    def change(request: Request) -> Response:
        try:
            document = json.loads(request.body or b"{}")
        except ValueError:
            document = None
        if not isinstance(document, dict) or not all(
            isinstance(document.get(k), str) for k in ("table", "keep")
        ):
            return _json(400, {"error": 'body must be JSON: {"table": "otel_traces", "keep": "30d"}'})
        try:
            seconds = set_retention(store, document["table"], document["keep"])
        except ConfigError as exc:
            return _json(400, {"error": str(exc)})
        except QueryError as exc:
            return _json(400, {"error": str(exc)})
        except StoreError as exc:
            return _json(503, {"error": str(exc)})
        return _json(200, {"table": document["table"], "keep_seconds": seconds or None})

    return {
        ("GET", "/v1/retention"): operator_only(auth, view),
        ("POST", "/v1/retention"): operator_only(auth, change),
    }


def _json(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))
