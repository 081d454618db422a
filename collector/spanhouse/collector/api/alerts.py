"""Alert endpoints; who may see which tenant's alerts is in api/owned.py.

GET  /v1/alerts[?tenant=T&open=true&kind=K&limit=N]   {"alerts": [...]}, newest first
POST /v1/alerts/evaluate  {"at": ISO?, "tenant": T?}   evaluate now (or at `at`); a tenant key
                                                      evaluates its own tenant only
"""

from __future__ import annotations

import logging
from typing import Any

from spanhouse.collector.alerts.service import AlertService
from spanhouse.collector.alerts.store import list_alerts
from spanhouse.collector.api.access import ReadAccess
from spanhouse.collector.api.owned import guarded, json_body, json_response, query_params, read_scope, truthy
from spanhouse.collector.auth import ALL_TENANTS
from spanhouse.collector.config import ALERT_KINDS
from spanhouse.collector.errors import ConfigError
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.reports import parse_time

logger = logging.getLogger(__name__)

PATH = "/v1/alerts"
MAX_LIMIT = 10_000


def alert_routes(access: ReadAccess, service: AlertService | None) -> dict[tuple[str, str], Handler]:
    def listing(request: Request) -> Response:
        def run() -> Response:
            given = query_params(request.query, ("tenant", "open", "kind", "limit"))
            kind = given.get("kind", "")
            if kind and kind not in ALERT_KINDS:
                raise ConfigError(
                    f"kind {kind[:64]!r} is not an alert kind; use one of {', '.join(ALERT_KINDS)}"
                )
            limit = _limit(given.get("limit", "100"))
            tenant, reader = read_scope(access, request, given.get("tenant"))
            alerts = list_alerts(
                reader, tenant, open_only=truthy(given.get("open"), "open"), kind=kind, limit=limit
            )
            return json_response(200, {"alerts": [a.document() for a in alerts]})

        return guarded(access, request, run)

    def evaluate(request: Request) -> Response:
        def run() -> Response:
            document = json_body(request)
            unknown = sorted(set(document) - {"at", "tenant"})
            if unknown:
                raise ConfigError(f"unknown key {', '.join(unknown)[:100]}; the body takes at and tenant")
            at, requested = document.get("at"), document.get("tenant")
            if not all(isinstance(v, str | None) for v in (at, requested)):
                raise ConfigError('body must be {"at": "<ISO time>", "tenant": "<tenant>"} (both optional)')
            tenant, _ = read_scope(access, request, requested)
            if service is None:
                return json_response(503, {"error": "alerts are not running in this collector"})
            outcome = service.evaluate(parse_time(at) if at else None, tenant or ALL_TENANTS)
            return json_response(200, _visible(outcome.document(), tenant))

        return guarded(access, request, run)

    return {("GET", PATH): listing, ("POST", f"{PATH}/evaluate"): evaluate}


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"limit={text[:20]!r} must be a whole number") from None
    if not 1 <= value <= MAX_LIMIT:
        raise ConfigError(f"limit={value} must be within 1..{MAX_LIMIT}")
    return value


def _visible(document: dict[str, Any], tenant: str) -> dict[str, Any]:
    """An evaluation's answer shows the caller's tenant only (the evaluation was scoped to it anyway)."""
    if tenant == ALL_TENANTS:
        return document
    document["fired"] = [a for a in document["fired"] if a["tenant"] == tenant]
    return document
