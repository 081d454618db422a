"""Who may call which API route once API keys are configured, and the reader each read gets.

Three kinds of route:

- open: ``/healthz`` and ``/metrics`` (process-wide counters with no tenant label and no
  tenant data; Prometheus scrapes them without credentials, as the OTel Collector's own
  telemetry endpoint is scraped).
- tenant reads (reports, traces, SQL): any valid key; a tenant key reads its own tenant
  only. A ``tenant`` the request names that is not the key's own is refused with 403
  rather than silently replaced, so a client never mistakes its own rows for another's.
  Omitting ``tenant`` (or sending "") means the key's tenant. The operator key (``'*'``) may
  name any tenant. Every read goes through the read path (readpath/reader.py): a tenant key's
  query runs against that tenant's views only; the operator key's against the whole database.
- shared state (retention view and TTLs, prices): the operator key only; tenant keys get 403.
  The retention view is operator-only too: its row and byte counts cover every tenant.

With no keys configured every route is open and every request belongs to the tenant "".
"""

from __future__ import annotations

import logging
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.auth import ALL_TENANTS, ApiKeys
from spanhouse.collector.errors import (
    Forbidden,
    QueryError,
    QueryLimitExceeded,
    QueryRefused,
    ReadBusy,
    SpanhouseError,
    StoreError,
    Unauthenticated,
)
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.readpath import ReadPath, TenantReader

logger = logging.getLogger(__name__)


class ReadAccess:
    """Resolves the tenant a read is for and the reader that keeps it to that tenant."""

    def __init__(self, read_path: ReadPath | None, auth: ApiKeys) -> None:
        self.read_path = read_path
        self.auth = auth

    def resolve(self, request: Request, requested: Any) -> tuple[str, TenantReader]:
        """(tenant, reader) for `request` naming tenant `requested`; raises Unauthenticated or Forbidden."""
        if self.read_path is None:
            raise StoreError("the read path is not open")
        named = requested if isinstance(requested, str) else None
        if not self.auth.enabled:
            return named or "", self.read_path.operator("")
        tenant = self.auth.tenant_for(request.headers)
        if tenant == ALL_TENANTS:
            return named or "", self.read_path.operator(ALL_TENANTS)
        if requested not in (None, "", tenant):
            raise Forbidden(f"this API key reads tenant {tenant!r} only, not {requested!r}")
        return tenant, self.read_path.tenant(tenant)


def refusal(exc: Unauthenticated | Forbidden) -> Response:
    """The 401 or 403 answer to a refused request."""
    status = 401 if isinstance(exc, Unauthenticated) else 403
    return Response(status, jsonrows.dumps({"error": str(exc)}))


def read_failure(exc: Exception) -> Response:
    """The answer to a read that failed: 400 refused or over a limit, 429 busy, 503 store down."""
    if isinstance(exc, ReadBusy):
        return Response(
            429, jsonrows.dumps({"error": str(exc), "kind": "busy"}), headers={"Retry-After": "1"}
        )
    if isinstance(exc, QueryError):
        kind = (
            "refused"
            if isinstance(exc, QueryRefused)
            else "limit"
            if isinstance(exc, QueryLimitExceeded)
            else "query"
        )
        return Response(400, jsonrows.dumps({"error": str(exc), "kind": kind}))
    if isinstance(exc, StoreError):
        return Response(503, jsonrows.dumps({"error": str(exc), "kind": "store"}))
    if isinstance(exc, SpanhouseError):  # a bad parameter, named in the message
        return Response(400, jsonrows.dumps({"error": str(exc), "kind": "request"}))
    raise exc


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
