"""Who may see and change tenant-owned state (budgets, alerts) through the API.

- No API keys configured: everything is open; a request acts on the tenant it names, and a read
  that names none covers every tenant ('*').
- A tenant key reads and manages its own tenant's rows only. Naming another tenant, or '*',
  is refused with 403 rather than silently narrowed; naming none means its own. Its reads also
  run through the tenant reader of api/access.py (engine-side row filter on Tenant).
- The operator key ('*') reads every tenant (or the one it names) and manages any tenant's
  budgets, '*' budgets (all tenants) included.

Request bodies are small JSON objects: larger than MAX_BODY_BYTES is refused with 413.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import ReadAccess, refusal
from spanhouse.collector.auth import ALL_TENANTS
from spanhouse.collector.budgets.model import BudgetExists, BudgetNotFound
from spanhouse.collector.errors import ConfigError, Forbidden, QueryError, StoreError, Unauthenticated
from spanhouse.collector.httpserver import Request, Response

MAX_BODY_BYTES = 16 * 1024


class BodyTooLarge(ConfigError):
    """The request body is over MAX_BODY_BYTES."""


def read_scope(access: ReadAccess, request: Request, requested: str | None) -> tuple[str, Any]:
    """(tenant or '*', reader) for a read; raises Unauthenticated or Forbidden."""
    if requested not in (None, "", ALL_TENANTS):
        return access.resolve(request, requested)
    caller = access.auth.tenant_for(request.headers) if access.auth.enabled else ALL_TENANTS
    if caller == ALL_TENANTS:
        return (requested or ALL_TENANTS, access.resolve(request, None)[1])
    if requested == ALL_TENANTS:
        raise Forbidden(f"this API key manages tenant {caller!r} only, not every tenant ('*')")
    return access.resolve(request, caller)


def write_tenant(access: ReadAccess, request: Request, requested: str | None) -> str:
    """The tenant a write acts on: the key's own, or for the operator (or no keys) the one named ('' by default)."""
    caller = access.auth.tenant_for(request.headers) if access.auth.enabled else ALL_TENANTS
    if caller == ALL_TENANTS:
        return requested or ""
    if requested not in (None, caller):
        shown = "every tenant ('*')" if requested == ALL_TENANTS else repr(requested)
        raise Forbidden(f"this API key manages tenant {caller!r} only, not {shown}")
    return caller


def query_params(query: str, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query string as a dict; a repeated or unknown parameter is a ConfigError naming it."""
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigError(f"query string {query[:200]!r} is malformed") from None
    given: dict[str, str] = {}
    for key, value in pairs:
        if key in given:
            raise ConfigError(f"parameter {key} is given more than once")
        if key not in allowed:
            raise ConfigError(
                f"unknown parameter {key[:64]!r}; this route takes {', '.join(allowed) or 'none'}"
            )
        given[key] = value
    return given


def json_body(request: Request) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"request body is over {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(request.body or b"{}")
    except ValueError:
        raise ConfigError("body must be a JSON object") from None
    if not isinstance(document, dict):
        raise ConfigError("body must be a JSON object")
    return document


def truthy(value: str | None, name: str) -> bool:
    if value in (None, "", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ConfigError(f"parameter {name}={value!r} must be true or false")


def json_response(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))


def guarded(access: ReadAccess, request: Request, run: Callable[[], Response]) -> Response:
    """Authenticate, then run a handler's body, mapping its errors to their HTTP status (an
    unauthenticated caller learns nothing about its input)."""
    try:
        if access.auth.enabled:
            access.auth.tenant_for(request.headers)
        return run()
    except (Unauthenticated, Forbidden) as exc:
        return refusal(exc)
    except BodyTooLarge as exc:
        return json_response(413, {"error": str(exc)})
    except BudgetExists as exc:
        return json_response(409, {"error": str(exc)})
    except BudgetNotFound as exc:
        return json_response(404, {"error": str(exc)})
    except (ConfigError, QueryError) as exc:
        return json_response(400, {"error": str(exc)})
    except StoreError as exc:
        return json_response(503, {"error": str(exc)})
