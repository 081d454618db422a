"""API keys mapped to tenants, read from the headers OTLP exporters send.

Agents set ``OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer <key>`` (or ``x-api-key=<key>``);
the collector maps the key to a tenant, stamps it on every row and scopes every read to it.
Keys are kept only as SHA-256 digests and never logged. With no keys configured the collector
is open and everything belongs to the tenant "" (a single-user install).

Key file (YAML or JSON)::

    api_keys:
      <key>: <tenant>
      <operator key>: "*"     # reads every tenant through the SQL API; cannot send spans

or the environment: ``SPANHOUSE_API_KEYS=<key>=<tenant>,<key2>=<tenant2>``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from spanhouse.collector.errors import ConfigError, Unauthenticated

ENV_API_KEYS = "SPANHOUSE_API_KEYS"
"""Comma-separated ``key=tenant`` pairs; used when no key file is given."""

TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ALL_TENANTS = "*"
_MIN_KEY_LENGTH = 16


class ApiKeys:
    """Which tenant a request belongs to. Empty = authentication off."""

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        self._tenants: dict[bytes, str] = {}
        for key, tenant in (keys or {}).items():
            if not isinstance(key, str) or len(key) < _MIN_KEY_LENGTH:
                raise ConfigError(
                    f"an API key of tenant {tenant!r} is shorter than {_MIN_KEY_LENGTH} characters"
                )
            if not isinstance(tenant, str) or not (tenant == ALL_TENANTS or TENANT_PATTERN.match(tenant)):
                raise ConfigError(
                    f"tenant id {tenant!r} must be 1-64 characters of letters, digits, '_', '.', '-' (or '*')"
                )
            self._tenants[_digest(key)] = tenant

    @property
    def enabled(self) -> bool:
        return bool(self._tenants)

    @property
    def tenants(self) -> set[str]:
        return set(self._tenants.values())

    def sender_tenant(self, headers: Mapping[str, str]) -> str:
        """The tenant spans from these headers are stored under; operator keys cannot send."""
        tenant = self.tenant_for(headers)
        if tenant == ALL_TENANTS:
            raise Unauthenticated(
                "an operator key ('*') reads every tenant but cannot send spans; use a tenant's key"
            )
        return tenant

    def tenant_for(self, headers: Mapping[str, str]) -> str:
        """The tenant of a request's headers (lower-case names); raises Unauthenticated."""
        if not self._tenants:
            return ""
        key = presented_key(headers)
        if key is None:
            raise Unauthenticated("no API key: send 'authorization: Bearer <key>' or 'x-api-key: <key>'")
        digest = _digest(key)
        for known, tenant in self._tenants.items():
            if hmac.compare_digest(known, digest):
                return tenant
        raise Unauthenticated("the API key is not valid")

    @classmethod
    def load(cls, path: str | Path | None = None, env_value: str | None = None) -> ApiKeys:
        """Keys from `path` if given, else from the SPANHOUSE_API_KEYS value, else none."""
        if path is not None:
            try:
                document = yaml.safe_load(Path(path).read_text())
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigError(f"cannot read the API key file {path}: {exc}") from None
            keys = document.get("api_keys") if isinstance(document, dict) else None
            if not isinstance(keys, dict):
                raise ConfigError(f"{path} must hold a mapping 'api_keys: {{<key>: <tenant>}}'")
            return cls({str(k): str(v) for k, v in keys.items()})
        if env_value:
            keys = {}
            for item in env_value.split(","):
                key, sep, tenant = item.strip().rpartition("=")
                if not sep or not key:
                    raise ConfigError(f"{ENV_API_KEYS} entries must look like <key>=<tenant>")
                keys[key] = tenant
            return cls(keys)
        return cls()


def presented_key(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization", "").strip()
    if authorization[:7].lower() == "bearer " and authorization[7:].strip():
        return authorization[7:].strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
