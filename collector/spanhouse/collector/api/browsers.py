"""Keeps other web pages out of a collector that runs without API keys.

Without keys, anything that reaches the port may read every row; that is the point of the local
mode, and the port is on 127.0.0.1 by default. A browser on the same machine reaches it too, on
behalf of any page it shows:

- A page of another origin can send a "simple" POST (text/plain body, no preflight), so it can make
  the collector run a query it chose, although it cannot read the answer. Browsers name the page's
  origin in an `Origin` header on every POST; a request whose Origin is not the collector's own
  address is refused.
- DNS rebinding: a page of `evil.example` whose name then resolves to 127.0.0.1 is same-origin with
  the collector and may read the answers. Its requests carry `Host: evil.example:<port>`, so a
  collector listening on a loopback address answers only requests that name it by an IP address or
  `localhost`.

With keys configured neither applies: a key travels in a header, which a page of another origin
cannot set without a preflight this server never grants, and a rebound page does not hold one.
OTLP ingest is not guarded (its exporters are programs; a span sent by a page changes no read).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

UNGUARDED_PATHS = frozenset({"/v1/traces"})


class BrowserGuard:
    """Answers why a request must be refused (403), or None when it may go on."""

    def __init__(self, keys_enabled: Callable[[], bool], *, loopback: bool) -> None:
        self._keys_enabled = keys_enabled
        self._loopback = loopback

    def refusal(self, method: str, path: str, headers: Mapping[str, str]) -> str | None:
        """`headers` have lower-cased names."""
        if path in UNGUARDED_PATHS or self._keys_enabled():
            return None
        host = headers.get("host", "")
        if self._loopback and not _names_this_machine(host):
            return (
                f"this collector has no API keys and answers only requests addressed to it by IP "
                f"address or localhost, not {host[:100]!r}; use http://127.0.0.1:<port>"
            )
        origin = headers.get("origin")
        if method not in ("GET", "HEAD") and origin is not None and _netloc(origin) != host.lower():
            return (
                f"a page of {origin[:100]!r} may not call this collector; without API keys it "
                "answers its own pages and programs only"
            )
        return None


def is_loopback(host: str) -> bool:
    """Whether a listen address is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _names_this_machine(host_header: str) -> bool:
    name = _hostname(host_header)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _hostname(host_header: str) -> str:
    """The name of a Host header value: `[::1]:80` -> `::1`, `Example:80` -> `example`."""
    return (urlsplit(f"//{host_header}").hostname or "") if host_header else ""


def _netloc(origin: str) -> str:
    """`http://127.0.0.1:4318` -> `127.0.0.1:4318`; an opaque origin (`null`) -> ''."""
    parts = urlsplit(origin)
    return parts.netloc.lower() if parts.scheme in ("http", "https") else ""
