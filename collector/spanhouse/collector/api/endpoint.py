"""One shape for the read endpoints behind the web UI: parse, resolve the tenant, answer JSON.

Each endpoint is a function of (Read, query parameters) that returns a JSON document. The
wrapper resolves the API key's tenant through ReadAccess before the parameters are looked at,
and maps the errors to statuses the same way everywhere: 401/403 from the key, 404 when the
thing asked for is not stored, 400 for a bad parameter or query, 503 when the store fails.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import ReadAccess, refusal
from spanhouse.collector.debug.trace import TraceNotFound
from spanhouse.collector.errors import ConfigError, Forbidden, QueryError, StoreError, Unauthenticated
from spanhouse.collector.httpserver import Handler, Request, Response
from spanhouse.collector.reports import Reader

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Read:
    """Whose rows a request reads (the key's tenant) and the reader that keeps it to them."""

    tenant: str
    reader: Reader


Endpoint = Callable[[Read, dict[str, str]], Any]


def read_endpoint(access: ReadAccess, endpoint: Endpoint) -> Handler:
    """`endpoint` as an HTTP handler scoped by `access` to the API key's tenant."""

    def handle(request: Request) -> Response:
        try:
            given = query_parameters(request.query)
            tenant, reader = access.resolve(request, given.pop("tenant", ""))
            return json_response(200, endpoint(Read(tenant, reader), given))
        except (Unauthenticated, Forbidden) as exc:
            return refusal(exc)
        except TraceNotFound as exc:
            return json_response(404, {"error": str(exc)})
        except (ConfigError, QueryError) as exc:
            return json_response(400, {"error": str(exc)})
        except StoreError as exc:
            return json_response(503, {"error": str(exc)})

    return handle


def query_parameters(query: str) -> dict[str, str]:
    """The query string as {name: value}; a malformed string or a repeated name is an error."""
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigError(f"query string {query[:200]!r} is malformed") from None
    given: dict[str, str] = {}
    for key, value in pairs:
        if key in given:
            raise ConfigError(f"parameter {key} is given more than once")
        given[key] = value
    return given


def reject_unknown(given: dict[str, str], known: set[str] | tuple[str, ...]) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f"unknown parameter {', '.join(unknown)}; known: {', '.join(sorted(known))}")


def hex_id(given: dict[str, str], name: str) -> str:
    """A trace, run or span id parameter: hex digits, lower-cased."""
    value = given.get(name, "").strip().lower()
    if not value or len(value) > 64 or any(c not in "0123456789abcdef" for c in value):
        raise ConfigError(f"parameter {name}={value[:80]!r} must be a trace, run or span id (hex digits)")
    return value


def json_response(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))
