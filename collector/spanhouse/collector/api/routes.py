"""Handlers of the collector's JSON API; every read goes through READONLY_SETTINGS.

Who may call what once API keys are configured is described in api/access.py.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import ReadAccess
from spanhouse.collector.api.reports import report_routes
from spanhouse.collector.api.retention import retention_routes
from spanhouse.collector.api.rundetail import detail_routes
from spanhouse.collector.api.runs import run_routes
from spanhouse.collector.api.session import session_routes
from spanhouse.collector.api.tenancy import TenantScope
from spanhouse.collector.api.traces import trace_routes
from spanhouse.collector.auth import ALL_TENANTS, ApiKeys
from spanhouse.collector.errors import QueryError, StoreError, Unauthenticated
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.store import Store
from spanhouse.collector.store.client import READONLY_SETTINGS
from spanhouse.collector.telemetry import Metrics
from spanhouse.collector.ui import ui_routes

logger = logging.getLogger(__name__)


def api_routes(store: Store, metrics: Metrics, auth: ApiKeys | None = None) -> dict[tuple[str, str], Handler]:
    auth = auth or ApiKeys()
    scope = TenantScope(store)
    access = ReadAccess(store, auth, scope)

    def healthz(request: Request) -> Response:
        try:
            store.query("SELECT 1")
        except StoreError as exc:
            return _json(503, {"status": "unhealthy", "store": str(exc)})
        return _json(200, {"status": "ok", "store": store.description})

    def prometheus(request: Request) -> Response:
        return Response(200, metrics.prometheus_text().encode(), "text/plain; version=0.0.4")

    def sql(request: Request) -> Response:
        """POST {"query": "...", "parameters": {...}} -> {"columns": [...], "rows": [[...]]}.

        With API keys configured, the key's tenant scopes the query and is the `tenant` parameter.
        """
        try:
            tenant = auth.tenant_for(request.headers)
        except Unauthenticated as exc:
            return _json(401, {"error": str(exc)})
        try:
            document = json.loads(request.body or b"{}")
        except ValueError:
            return _json(400, {"error": 'body must be JSON: {"query": "SELECT ..."}'})
        query = document.get("query") if isinstance(document, dict) else None
        parameters = document.get("parameters") or {} if isinstance(document, dict) else {}
        if not isinstance(query, str) or not query.strip():
            return _json(400, {"error": 'body must carry a non-empty "query" string'})
        if not isinstance(parameters, dict):
            return _json(400, {"error": '"parameters" must be an object'})
        try:
            if auth.enabled and tenant != ALL_TENANTS:
                result = scope.query(tenant, query, {**parameters, "tenant": tenant})
            else:
                result = store.query(query, parameters, settings=READONLY_SETTINGS)
        except QueryError as exc:
            return _json(400, {"error": str(exc)})
        except StoreError as exc:
            return _json(503, {"error": str(exc)})
        return _json(200, {"columns": list(result.columns), "rows": result.rows})

    return {
        ("GET", "/healthz"): healthz,
        ("GET", "/metrics"): prometheus,
        ("POST", "/v1/sql"): sql,
        **report_routes(access),
        **retention_routes(store, auth),
        **trace_routes(access),
        **run_routes(access),
        **detail_routes(access),
        **session_routes(auth),
        **ui_routes(),
    }


def _json(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))
