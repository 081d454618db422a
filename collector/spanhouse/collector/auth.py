"""API keys mapped to tenants, read from the headers OTLP exporters send.

Agents set ``OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer <key>`` (or ``x-api-key=<key>``);
the collector maps the key to a tenant, stamps it on every row and scopes every read to it.
Keys are kept in memory only as SHA-256 digests, compared in constant time, and never logged.
With no keys configured the collector is open and everything belongs to the tenant "" (a
single-user install).

Key file (YAML or JSON); a key may be given as its digest (``spanhouse keys hash`` prints one),
so the file does not hold the secret itself::

    api_keys:
      sha256:<64 hex digits>: <tenant>
      <key>: <tenant>          # plain text still works; the collector logs a warning
      <operator key>: "*"      # reads every tenant through the SQL API; cannot send spans

or the environment: ``SPANHOUSE_API_KEYS=<key or sha256:digest>=<tenant>,...``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from spanhouse.collector.errors import ConfigError, Unauthenticated

logger = logging.getLogger(__name__)

ENV_API_KEYS = "SPANHOUSE_API_KEYS"
"""Comma-separated ``key=tenant`` pairs; used when no key file is given."""

TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ALL_TENANTS = "*"
DIGEST_PREFIX = "sha256:"
MIN_KEY_LENGTH = 16
_DIGEST = re.compile(r"^sha256:([0-9a-fA-F]{64})$")


class ApiKeys:
    """Which tenant a request belongs to. Empty = authentication off."""

    def __init__(self, keys: Mapping[str, str] | None = None) -> None:
        tenants: dict[bytes, str] = {}
        plain = 0
        for key, tenant in (keys or {}).items():
            if not isinstance(tenant, str) or not (tenant == ALL_TENANTS or TENANT_PATTERN.match(tenant)):
                raise ConfigError(
                    f"tenant id {tenant!r} must be 1-64 characters of letters, digits, '_', '.', '-' (or '*')"
                )
            digest = _stored_digest(key, tenant)
            plain += not _DIGEST.match(key)
            if tenants.setdefault(digest, tenant) != tenant:
                raise ConfigError(f"one API key is given for both tenant {tenants[digest]!r} and {tenant!r}")
        self._keys: tuple[tuple[bytes, str], ...] = tuple(tenants.items())
        if plain:
            logger.warning(
                "%d API key(s) are stored in plain text; store their digests instead "
                "(`spanhouse keys hash` prints the sha256:<hex> line to put in their place)",
                plain,
            )

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    @property
    def tenants(self) -> set[str]:
        return {tenant for _, tenant in self._keys}

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
        if not self._keys:
            return ""
        key = presented_key(headers)
        if key is None:
            raise Unauthenticated("no API key: send 'authorization: Bearer <key>' or 'x-api-key: <key>'")
        digest = _digest(key)
        found = None
        for known, tenant in self._keys:  # every key is compared, so the time taken tells nothing
            if hmac.compare_digest(known, digest):
                found = tenant
        if found is None:
            raise Unauthenticated("the API key is not valid")
        return found

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


def hash_key(key: str) -> str:
    """The ``sha256:<hex>`` form of `key` to put in a key file instead of the key itself."""
    return DIGEST_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def _stored_digest(key: object, tenant: str) -> bytes:
    """The digest a key-file entry stands for: given as sha256:<hex>, or of a plain-text key."""
    if not isinstance(key, str):
        raise ConfigError(f"an API key of tenant {tenant!r} is not a string")
    match = _DIGEST.match(key)
    if match:
        return bytes.fromhex(match[1])
    if key.lower().startswith(DIGEST_PREFIX):
        raise ConfigError(
            f"the key digest of tenant {tenant!r} must be sha256: and 64 hex digits (`spanhouse keys hash`)"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"an API key of tenant {tenant!r} is shorter than {MIN_KEY_LENGTH} characters")
    return _digest(key)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
