"""Handlers of the collector's JSON API; every read goes through the read path (readpath/).

Who may call what once API keys are configured is described in api/access.py.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import ReadAccess, read_failure, refusal
from spanhouse.collector.api.experiments import experiment_routes
from spanhouse.collector.api.health import DEFAULT_UNHEALTHY_AFTER_S, InsertState, health_handler
from spanhouse.collector.api.reports import report_routes
from spanhouse.collector.api.retention import retention_routes
from spanhouse.collector.api.rundetail import detail_routes
from spanhouse.collector.api.runs import run_routes
from spanhouse.collector.api.session import session_routes
from spanhouse.collector.api.traces import trace_routes
from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.errors import Forbidden, QueryLimitExceeded, SpanhouseError, Unauthenticated
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.readpath import ReadPath
from spanhouse.collector.store import Store
from spanhouse.collector.telemetry import Metrics
from spanhouse.collector.ui import ui_routes

logger = logging.getLogger(__name__)

# A reply may be this many times max_result_bytes as JSON (quotes, separators, numbers as text).
_REPLY_FACTOR = 2


def api_routes(
    store: Store,
    metrics: Metrics,
    auth: ApiKeys | None = None,
    *,
    read_path: ReadPath | None = None,
    inserts: InsertState | None = None,
    unhealthy_after_s: float = DEFAULT_UNHEALTHY_AFTER_S,
) -> dict[tuple[str, str], Handler]:
    auth = auth or ApiKeys()
    access = ReadAccess(read_path, auth)

    def prometheus(request: Request) -> Response:
        return Response(200, metrics.prometheus_text().encode(), "text/plain; version=0.0.4")

    def sql(request: Request) -> Response:
        """POST {"query": "SELECT ...", "parameters": {...}} -> {"columns": [...], "rows": [[...]]}.

        With API keys configured, a tenant key's query reads that tenant's rows only, and its
        `tenant` parameter is the key's tenant (naming another one is refused with 403).
        `"final": false` shows a span stored twice (a client retry) twice, as stored before merges.
        """
        try:
            auth.tenant_for(request.headers)
        except Unauthenticated as exc:
            return refusal(exc)
        try:
            document = json.loads(request.body or b"{}")
        except ValueError:
            return _json(400, {"error": 'body must be JSON: {"query": "SELECT ..."}'})
        query = document.get("query") if isinstance(document, dict) else None
        parameters = (document.get("parameters") or {}) if isinstance(document, dict) else {}
        if not isinstance(query, str) or not query.strip():
            return _json(400, {"error": 'body must carry a non-empty "query" string'})
        if not isinstance(parameters, dict):
            return _json(400, {"error": '"parameters" must be an object'})
        final = document.get("final", True)
        if not isinstance(final, bool):
            return _json(400, {"error": '"final" must be true or false'})
        try:
            _, reader = access.resolve(request, parameters.get("tenant"))
        except (Unauthenticated, Forbidden) as exc:
            return refusal(exc)
        try:
            result = reader.query(query, parameters, final=final)
        except SpanhouseError as exc:
            logger.info("query refused or failed: %s", type(exc).__name__)
            return read_failure(exc)
        body = jsonrows.dumps({"columns": list(result.columns), "rows": result.rows})
        if read_path is not None and len(body) > _REPLY_FACTOR * read_path.limits.max_result_bytes:
            # max_result_bytes counts a constant column once; its copies on every row count here
            return read_failure(
                QueryLimitExceeded(
                    f"the reply would be {len(body) >> 20} MiB of JSON, larger than the limit per query; "
                    "add a LIMIT or aggregate"
                )
            )
        return Response(200, body)

    return {
        ("GET", "/healthz"): health_handler(store, inserts, unhealthy_after_s),
        ("GET", "/metrics"): prometheus,
        ("POST", "/v1/sql"): sql,
        **report_routes(access),
        **retention_routes(store, auth),
        **trace_routes(access),
        **experiment_routes(store, access),
        **run_routes(access),
        **detail_routes(access),
        **session_routes(auth),
        **ui_routes(),
    }


def _json(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))
