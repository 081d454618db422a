"""GET /v1/trace?id=<trace, run or span id>: one run as JSON (spans with critical-path time,
bottlenecks, errors, warnings), the same document as `spanhouse traces show --format json`.

Optional query keys: tenant, bottleneck_share, and the warning thresholds low_confidence,
high_tokens, slow_ms, low_quality.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import fields
from typing import Any

from spanhouse.collector import jsonrows
from spanhouse.collector.api.access import ReadAccess, read_failure, refusal
from spanhouse.collector.debug.trace import TraceNotFound, WarningThresholds, fetch_trace
from spanhouse.collector.debug.views import trace_document
from spanhouse.collector.errors import ConfigError, Forbidden, ReadBusy, StoreError, Unauthenticated
from spanhouse.collector.httpserver import Handler, Request, Response

_THRESHOLDS = {f.name for f in fields(WarningThresholds)}


def trace_routes(access: ReadAccess) -> dict[tuple[str, str], Handler]:
    """GET /v1/trace, scoped by `access` to the API key's tenant (see api/access.py)."""

    def show(request: Request) -> Response:
        try:
            given = dict(urllib.parse.parse_qsl(request.query, keep_blank_values=True))
            identifier = given.pop("id", "")
            tenant, reader = access.resolve(request, given.pop("tenant", ""))
            share = _number(given.pop("bottleneck_share", "0.2"), "bottleneck_share")
            unknown = sorted(set(given) - _THRESHOLDS)
            if unknown:
                raise ConfigError(
                    f"unknown parameter {', '.join(unknown)}; known: id, tenant, bottleneck_share, "
                    + ", ".join(sorted(_THRESHOLDS))
                )
            thresholds = WarningThresholds(**{k: _number(v, k) for k, v in given.items()})
            trace = fetch_trace(reader, identifier, tenant=tenant, thresholds=thresholds)
        except (Unauthenticated, Forbidden) as exc:
            return refusal(exc)
        except TraceNotFound as exc:
            return _json(404, {"error": str(exc)})
        except ConfigError as exc:
            return _json(400, {"error": str(exc)})
        except (StoreError, ReadBusy) as exc:
            return read_failure(exc)
        return _json(200, trace_document(trace, share))

    return {("GET", "/v1/trace"): show}


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"parameter {name}={text!r} is not a number") from None


def _json(status: int, document: Any) -> Response:
    return Response(status, jsonrows.dumps(document))
