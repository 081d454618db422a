"""Who may call which API route once API keys are configured.

Three kinds of route:

- open: ``/healthz`` and ``/metrics`` (process-wide counters with no tenant label and no
  tenant data; Prometheus scrapes them without credentials, as the OTel Collector's own
  telemetry endpoint is scraped).
- tenant reads (reports, traces, SQL): any valid key; a tenant key reads its own tenant
  only. A ``tenant`` the request names that is not the key's own is refused with 403
  rather than silently replaced, so a client never mistakes its own rows for another's.
  Omitting ``tenant`` means the key's tenant. The operator key (``'*'``) may name any tenant.
  Tenant reads also run with ``additional_table_filters`` on the key's tenant, so a report
  query that forgot its ``Tenant =`` filter still sees only that tenant's rows.
- shared state (retention view and TTLs, prices): the operator key only; tenant keys get 403.
  The retention view is operator-only too: its row and byte counts cover every tenant.

With no keys configured every route is open and every request belongs to the tenant "".
"""

from __future__ import annotations

import logging
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.tenancy import TenantScope
from spanhouse.collector.auth import ALL_TENANTS, ApiKeys
from spanhouse.collector.errors import Forbidden, Unauthenticated
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.store import Store
from spanhouse.collector.store.client import READONLY_SETTINGS, QueryResult

logger = logging.getLogger(__name__)


class ReadOnlyReader:
    """Runs queries on the store under READONLY_SETTINGS."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        return self.store.query(sql, parameters, settings=READONLY_SETTINGS)


class TenantReader:
    """Runs the collector's own queries (report and trace jobs) filtered to one tenant's rows."""

    def __init__(self, store: Store, settings: dict[str, Any]) -> None:
        self.store = store
        self.settings = settings

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        return self.store.query(sql, parameters, settings=self.settings)


class ReadAccess:
    """Resolves the tenant a read is for and the reader that enforces it."""

    def __init__(self, store: Store, auth: ApiKeys, scope: TenantScope | None = None) -> None:
        self.store = store
        self.auth = auth
        self.scope = scope or TenantScope(store)
        self._open = ReadOnlyReader(store)

    def resolve(self, request: Request, requested: str | None) -> tuple[str, Any]:
        """(tenant, reader) for `request`; raises Unauthenticated or Forbidden."""
        if not self.auth.enabled:
            return requested or "", self._open
        tenant = self.auth.tenant_for(request.headers)
        if tenant == ALL_TENANTS:
            return requested or "", self._open
        if requested and requested != tenant:
            raise Forbidden(f"this API key reads tenant {tenant!r} only, not {requested!r}")
        return tenant, TenantReader(self.store, self.scope.settings(tenant))


def refusal(exc: Unauthenticated | Forbidden) -> Response:
    """The 401 or 403 answer to a refused request."""
    status = 401 if isinstance(exc, Unauthenticated) else 403
    return Response(status, jsonrows.dumps({"error": str(exc)}))


def authenticated(auth: ApiKeys, handler: Handler) -> Handler:
    """`handler` behind any valid key (when keys are configured)."""
    if not auth.enabled:
        return handler

    def guarded(request: Request) -> Response:
        try:
            auth.tenant_for(request.headers)
        except Unauthenticated as exc:
            return refusal(exc)
        return handler(request)

    return guarded


def operator_only(auth: ApiKeys, handler: Handler) -> Handler:
    """`handler` behind the operator key (when keys are configured): it changes shared state."""
    if not auth.enabled:
        return handler

    def guarded(request: Request) -> Response:
        try:
            tenant = auth.tenant_for(request.headers)
        except Unauthenticated as exc:
            return refusal(exc)
        if tenant != ALL_TENANTS:
            logger.info("refused %s %s to a tenant key", request.method, request.path)
            return refusal(
                Forbidden(
                    f"{request.method} {request.path} needs the operator API key ('*'); "
                    f"the key of tenant {tenant!r} cannot use it"
                )
            )
        return handler(request)

    return guarded
