"""User prices for private, fine-tuned or renegotiated models, from YAML or the command line.

    prices:
      - model: acme-support-ft-v3     # the model name as spans report it
        match: exact                  # exact (default), prefix or regex
        provider: openai              # optional; omitted = any provider
        input: 3.0                    # USD per million uncached input tokens
        output: 12.0                  # USD per million output tokens
        cached_input: 1.5             # optional; default: the input price
        cache_write: 3.75             # optional; default: the input price
        reasoning: 12.0               # optional; default: the output price
        effective_from: 2026-01-01    # optional; default: always

User rows outrank the catalogue (Priority 100) for the providers they name.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from spanhouse.collector.errors import ConfigError
from spanhouse.collector.prices.book import EPOCH, PriceRow
from spanhouse.collector.prices.providers import canonical_provider

SOURCE = "user"
PRIORITY = 100
MATCH_KINDS = ("exact", "prefix", "regex")
_KEYS = frozenset(
    {
        "model",
        "match",
        "provider",
        "input",
        "output",
        "cached_input",
        "cache_write",
        "reasoning",
        "effective_from",
    }
)


def load_overrides(path: str | Path) -> list[PriceRow]:
    """Rows from a YAML file shaped like this module's docstring; ConfigError names what is wrong."""
    import yaml

    try:
        document = yaml.safe_load(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read price file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"price file {path} is not valid YAML: {exc}") from None
    entries = document.get("prices") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"price file {path} must have a non-empty `prices:` list")
    return [override_row(entry, where=f"{path}: prices[{i}]") for i, entry in enumerate(entries)]


def override_row(entry: Any, *, where: str = "price") -> PriceRow:
    """One user price row from a mapping (a YAML entry or CLI options)."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping with at least model, input and output")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    model = entry.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(f"{where}.model must be a non-empty model name")
    model = model.strip()
    match = entry.get("match") or "exact"
    if match not in MATCH_KINDS:
        raise ConfigError(f"{where}.match is {match!r}; use one of {', '.join(MATCH_KINDS)}")
    if match == "regex":
        try:
            re.compile(model)
        except re.error as exc:
            raise ConfigError(f"{where}.model is not a valid regex: {exc}") from None
        regex = model
    else:
        escaped = "".join(ch if ch.isalnum() or ch == "_" else f"\\{ch}" for ch in model.lower())
        regex = f"^{escaped}$" if match == "exact" else f"^{escaped}"
    provider_raw = entry.get("provider")
    if provider_raw is not None and (not isinstance(provider_raw, str) or not provider_raw.strip()):
        raise ConfigError(f"{where}.provider must be a provider name such as openai, or left out")
    provider = canonical_provider(provider_raw) if provider_raw else None
    effective = _effective_from(entry.get("effective_from"), where)
    suffix = "" if effective == EPOCH else f"@{effective:%Y-%m-%dT%H:%M:%S}"
    return PriceRow(
        price_id=f"{SOURCE}:{provider or '*'}/{model}{suffix}",
        source=SOURCE,
        providers=(provider,) if provider else (),
        model_regex=regex,
        effective_from=effective,
        priority=PRIORITY,
        input_mtok=_rate(entry, "input", where, required=True),  # type: ignore[arg-type]
        output_mtok=_rate(entry, "output", where, required=True),  # type: ignore[arg-type]
        cached_input_mtok=_rate(entry, "cached_input", where),
        cache_write_mtok=_rate(entry, "cache_write", where),
        reasoning_mtok=_rate(entry, "reasoning", where),
    )


def _rate(entry: dict, key: str, where: str, *, required: bool = False) -> float | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where}.{key} is required: USD per million tokens, e.g. {key}: 2.5")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}.{key} must be a number of USD per million tokens, got {value!r}")
    if not 0 <= value < 1e6:
        raise ConfigError(f"{where}.{key} must be >= 0 USD per million tokens, got {value}")
    return float(value)


def _effective_from(value: Any, where: str) -> dt.datetime:
    if value is None or value == "":
        return EPOCH
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(
                f"{where}.effective_from is {value!r}; use an ISO date such as 2026-01-01"
            ) from None
    else:
        raise ConfigError(f"{where}.effective_from must be an ISO date such as 2026-01-01")
    return (
        parsed.replace(tzinfo=dt.timezone.utc)
        if parsed.tzinfo is None
        else parsed.astimezone(dt.timezone.utc)
    )
