"""The web UI at /ui: static files shipped in the wheel, served by the collector's HTTP server.

The UI is plain ES modules, CSS and SVG drawn by hand (no build step, no framework, nothing
fetched from elsewhere); it reads only the collector's JSON API, with the API key the user
signs in with. Routing is in the URL fragment (/ui/#/runs?agent=x), so every view has a link
and the server only ever serves the files below.

Every file is read once, when the routes are built. Responses carry a strict
Content-Security-Policy (scripts and styles from this origin only, no inline code, Trusted
Types required so no string can become HTML), and the headers that keep the pages out of
frames and stop MIME sniffing.
"""

from __future__ import annotations

import hashlib
import logging
from importlib.resources import files
from typing import TYPE_CHECKING

from spanhouse.collector.httpserver import Handler, Request, Response

if TYPE_CHECKING:
    from importlib.abc import Traversable

logger = logging.getLogger(__name__)

PREFIX = "/ui"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def ui_routes() -> dict[tuple[str, str], Handler]:
    """GET routes of every file under static/ (index.html also at /ui/), and /ui -> /ui/."""
    routes: dict[tuple[str, str], Handler] = {}
    for path, entry in _walk(files("spanhouse.collector.ui").joinpath("static"), ""):
        suffix = path[path.rfind(".") :]
        if suffix not in _TYPES:
            continue
        handler = _static(entry.read_bytes(), _TYPES[suffix])
        routes[("GET", f"{PREFIX}/{path}")] = handler
        if path == "index.html":
            routes[("GET", f"{PREFIX}/")] = handler
    routes[("GET", PREFIX)] = _redirect(f"{PREFIX}/")
    return routes


def _walk(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found = []
    for entry in folder.iterdir():
        if entry.is_dir():
            found += _walk(entry, f"{prefix}{entry.name}/")
        else:
            found.append((f"{prefix}{entry.name}", entry))
    return found


def _static(body: bytes, content_type: str) -> Handler:
    """Serves `body`; a request that already holds this version gets 304 (ETag)."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}

    def serve(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(304, b"", content_type, headers)
        return Response(200, body, content_type, headers)

    return serve


def _redirect(location: str) -> Handler:
    def redirect(request: Request) -> Response:
        return Response(308, b"", "text/plain", {**SECURITY_HEADERS, "Location": location})

    return redirect
