"""Price rows (the model_prices table) and the lookup the collector and the SQL jobs share.

The matching rule is the one `jobs/prices/reprice_stage.sql` applies in ClickHouse, so a
re-price gives the same cost the collector gave: the row whose `ModelRegex` matches the
lower-cased model and whose `EffectiveFrom` is the latest not after the step, preferring rows
for the step's provider (or for any provider), then higher `Priority`, then lower `Ordinal`.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

MODEL_PRICES_COLUMNS = (
    "PriceId",
    "Source",
    "Providers",
    "ModelRegex",
    "ModelExcludeRegex",
    "EffectiveFrom",
    "Priority",
    "Ordinal",
    "InputPerMTok",
    "CachedInputPerMTok",
    "CacheWritePerMTok",
    "OutputPerMTok",
    "ReasoningPerMTok",
    "TierStartTokens",
    "InputPerMTokTier",
    "CachedInputPerMTokTier",
    "CacheWritePerMTokTier",
    "OutputPerMTokTier",
    "UpdatedAt",
)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MAX_CACHED_MODELS = 50_000
_Rate = TypeVar("_Rate", float, "float | None")
_PER_TOKEN = 1e-6  # prices are per million tokens


class TokenCounts(NamedTuple):
    """Non-overlapping buckets, as stored in agent_steps."""

    uncached_input: int
    cache_read: int
    cache_write: int
    output: int
    reasoning: int


class Price(NamedTuple):
    cost_usd: float
    price_id: str


@dataclass(frozen=True, slots=True)
class PriceRow:
    """One row of model_prices."""

    price_id: str
    source: str
    providers: tuple[str, ...]
    model_regex: str
    effective_from: dt.datetime
    input_mtok: float
    output_mtok: float
    cached_input_mtok: float | None = None
    cache_write_mtok: float | None = None
    reasoning_mtok: float | None = None
    model_exclude_regex: str = ""
    priority: int = 0
    ordinal: int = 0
    tier_start_tokens: int = 0
    input_mtok_tier: float | None = None
    cached_input_mtok_tier: float | None = None
    cache_write_mtok_tier: float | None = None
    output_mtok_tier: float | None = None
    updated_at: dt.datetime | None = None
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _exclude: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @property
    def effective_ns(self) -> int:
        return _ns(self.effective_from)

    def matches(self, model: str) -> bool:
        pattern = self._pattern
        if pattern is None:
            pattern = re.compile(self.model_regex)
            object.__setattr__(self, "_pattern", pattern)
            if self.model_exclude_regex:
                object.__setattr__(self, "_exclude", re.compile(self.model_exclude_regex))
        if pattern.search(model) is None:
            return False
        return self._exclude is None or self._exclude.search(model) is None

    def cost(self, tokens: TokenCounts) -> float:
        """USD for `tokens`; past the tier threshold every token is priced at the tier rate."""
        total_input = tokens.uncached_input + tokens.cache_read + tokens.cache_write
        tiered = self.tier_start_tokens > 0 and total_input > self.tier_start_tokens
        input_rate = _pick(tiered, self.input_mtok_tier, self.input_mtok)
        read_rate = _pick(tiered, self.cached_input_mtok_tier, self.cached_input_mtok)
        write_rate = _pick(tiered, self.cache_write_mtok_tier, self.cache_write_mtok)
        output_rate = _pick(tiered, self.output_mtok_tier, self.output_mtok)
        reasoning_rate = self.reasoning_mtok if self.reasoning_mtok is not None else output_rate
        return (
            tokens.uncached_input * input_rate
            + tokens.cache_read * (read_rate if read_rate is not None else input_rate)
            + tokens.cache_write * (write_rate if write_rate is not None else input_rate)
            + tokens.output * output_rate
            + tokens.reasoning * reasoning_rate
        ) * _PER_TOKEN

    def as_insert_row(self, now: dt.datetime) -> list:
        return [
            self.price_id,
            self.source,
            list(self.providers),
            self.model_regex,
            self.model_exclude_regex,
            _naive_utc(self.effective_from),
            self.priority,
            self.ordinal,
            self.input_mtok,
            self.cached_input_mtok,
            self.cache_write_mtok,
            self.output_mtok,
            self.reasoning_mtok,
            self.tier_start_tokens,
            self.input_mtok_tier,
            self.cached_input_mtok_tier,
            self.cache_write_mtok_tier,
            self.output_mtok_tier,
            _naive_utc(self.updated_at or now),
        ]

    @classmethod
    def from_record(cls, record: dict) -> PriceRow:
        """A row as read back from ClickHouse (column name -> value)."""
        return cls(
            price_id=record["PriceId"],
            source=record["Source"],
            providers=tuple(record["Providers"]),
            model_regex=record["ModelRegex"],
            model_exclude_regex=record["ModelExcludeRegex"],
            effective_from=_aware(record["EffectiveFrom"]),
            priority=int(record["Priority"]),
            ordinal=int(record["Ordinal"]),
            input_mtok=float(record["InputPerMTok"]),
            cached_input_mtok=record["CachedInputPerMTok"],
            cache_write_mtok=record["CacheWritePerMTok"],
            output_mtok=float(record["OutputPerMTok"]),
            reasoning_mtok=record["ReasoningPerMTok"],
            tier_start_tokens=int(record["TierStartTokens"]),
            input_mtok_tier=record["InputPerMTokTier"],
            cached_input_mtok_tier=record["CachedInputPerMTokTier"],
            cache_write_mtok_tier=record["CacheWritePerMTokTier"],
            output_mtok_tier=record["OutputPerMTokTier"],
            updated_at=_aware(record["UpdatedAt"]),
        )


class PriceBook:
    """Resolves (provider, model, time) to a price row; candidates are cached per (provider, model)."""

    def __init__(self, rows: list[PriceRow]) -> None:
        self.rows = list(rows)
        # (effective_ns, row) of each candidate, ranked: the time is computed once per row, not per span
        self._candidates: dict[tuple[str, str], tuple[tuple[int, PriceRow], ...]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.rows)

    def lookup(self, provider: str, model: str, at_ns: int | None = None) -> PriceRow | None:
        key = (provider, model)
        candidates = self._candidates.get(key)
        if candidates is None:
            candidates = tuple((row.effective_ns, row) for row in self._rank(provider, model.lower()))
            with self._lock:
                if len(self._candidates) >= MAX_CACHED_MODELS:  # model names are client input
                    self._candidates.clear()
                self._candidates[key] = candidates
        for effective_ns, row in candidates:
            if at_ns is None or effective_ns <= at_ns:
                return row
        return None

    def _rank(self, provider: str, model: str) -> tuple[PriceRow, ...]:
        found = [row for row in self.rows if row.matches(model)]

        def order(row: PriceRow) -> tuple:
            provider_match = not row.providers or provider in row.providers
            return (not provider_match, -row.priority, row.ordinal, -row.effective_ns)

        return tuple(sorted(found, key=order))


def _pick(tiered: bool, tier_rate: float | None, base_rate: _Rate) -> float | _Rate:
    return tier_rate if tiered and tier_rate is not None else base_rate


def _ns(value: dt.datetime) -> int:
    delta = _aware(value) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value
