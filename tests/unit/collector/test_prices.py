"""Price book: catalogue translation, effective dating, overrides, tiers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from spanhouse.collector.errors import ConfigError
from spanhouse.collector.prices.book import PriceBook, TokenCounts
from spanhouse.collector.prices.catalogue import catalogue_rows
from spanhouse.collector.prices.overrides import load_overrides, override_row
from spanhouse.collector.processors.pricing import ModelPricer

CATALOGUE = catalogue_rows()
BOOK = PriceBook(CATALOGUE)


@pytest.mark.parametrize(
    ("provider", "genai_provider", "model", "tokens"),
    [
        ("openai", "openai", "gpt-4o-mini", TokenCounts(1_000, 5_000, 0, 300, 200)),
        ("anthropic", "anthropic", "claude-sonnet-4-5", TokenCounts(1_000, 20_000, 3_000, 500, 0)),
        ("gcp.gemini", "google", "gemini-2.5-pro", TokenCounts(250_000, 0, 0, 1_000, 4_000)),
        ("gcp.gemini", "google", "gemini-2.5-pro", TokenCounts(150_000, 0, 0, 1_000, 0)),
        ("openai", "openai", "text-embedding-3-small", TokenCounts(8, 0, 0, 0, 0)),
        ("", None, "gpt-4o-2024-08-06", TokenCounts(1_000, 0, 0, 100, 0)),
    ],
)
def test_book_costs_equal_the_catalogue_own_arithmetic(
    provider: str, genai_provider: str | None, model: str, tokens: TokenCounts
) -> None:
    row = BOOK.lookup(provider, model)
    assert row is not None
    expected = calc_price(
        Usage(
            input_tokens=tokens.uncached_input + tokens.cache_read + tokens.cache_write,
            cache_read_tokens=tokens.cache_read,
            cache_write_tokens=tokens.cache_write,
            output_tokens=tokens.output + tokens.reasoning,
        ),
        model,
        provider_id=genai_provider,
    )
    assert row.price_id == f"genai-prices:{expected.provider.id}/{expected.model.id}"
    assert row.cost(tokens) == pytest.approx(float(expected.total_price), rel=1e-9)


def test_every_catalogue_regex_compiles_and_most_models_are_priced() -> None:
    assert len(CATALOGUE) > 1000
    assert all(row.matches("") in (True, False) for row in CATALOGUE)
    assert len({row.price_id for row in CATALOGUE}) == len(CATALOGUE)


def test_exclusions_keep_tts_models_off_the_text_price() -> None:
    assert BOOK.lookup("gcp.gemini", "gemini-2.5-pro").price_id.endswith("/gemini-2.5-pro")
    tts = BOOK.lookup("gcp.gemini", "gemini-2.5-pro-preview-tts")
    assert tts is not None and tts.price_id.endswith("-tts")


def test_user_override_wins_from_its_effective_date_only() -> None:
    override = override_row(
        {
            "model": "gpt-4o-mini",
            "provider": "openai",
            "input": 1,
            "output": 2,
            "effective_from": "2026-01-01",
        }
    )
    book = PriceBook([*CATALOGUE, override])
    before = int(dt.datetime(2025, 12, 31, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    after = int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    assert book.lookup("openai", "gpt-4o-mini", before).price_id == "genai-prices:openai/gpt-4o-mini"
    assert (
        book.lookup("openai", "gpt-4o-mini", after).price_id == "user:openai/gpt-4o-mini@2026-01-01T00:00:00"
    )
    # A step whose provider has its own catalogue row keeps it over another provider's override.
    anthropic = override_row(
        {"model": "claude-sonnet-4-5", "provider": "aws.bedrock", "input": 1, "output": 1}
    )
    book = PriceBook([*CATALOGUE, anthropic])
    assert (
        book.lookup("anthropic", "claude-sonnet-4-5").price_id == "genai-prices:anthropic/claude-sonnet-4-5"
    )
    assert book.lookup("aws.bedrock", "claude-sonnet-4-5").price_id == anthropic.price_id


def test_pricer_leaves_unknown_models_unpriced_and_remembers_them() -> None:
    pricer = ModelPricer(PriceBook(CATALOGUE))
    tokens = TokenCounts(10, 0, 0, 10, 0)
    assert pricer.price("", "my-private-finetune-v3", tokens) is None
    assert ("", "my-private-finetune-v3") in pricer.unknown_models
    pricer.replace_book(
        PriceBook([override_row({"model": "my-private-finetune-v3", "input": 1, "output": 1})])
    )
    assert pricer.price("", "my-private-finetune-v3", tokens).cost_usd == pytest.approx(20e-6)


def test_prefix_and_regex_overrides() -> None:
    prefix = override_row({"model": "acme-", "match": "prefix", "input": 1, "output": 1})
    regex = override_row({"model": r"^ft:gpt-4o-mini:acme:.*", "match": "regex", "input": 1, "output": 1})
    assert prefix.matches("acme-support-v2") and not prefix.matches("xacme-")
    assert regex.matches("ft:gpt-4o-mini:acme:support:abc123")


def test_yaml_overrides(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "prices:\n"
        "  - model: acme-ft-v3\n    provider: openai\n    input: 3\n    output: 12\n    cached_input: 1.5\n"
        "  - model: acme-ft-v4\n    input: 2\n    output: 8\n    effective_from: 2026-02-01\n"
    )
    rows = load_overrides(path)
    assert [r.price_id for r in rows] == ["user:openai/acme-ft-v3", "user:*/acme-ft-v4@2026-02-01T00:00:00"]
    assert rows[0].cached_input_mtok == 1.5 and rows[0].providers == ("openai",)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"input": 1, "output": 1}, "model must be a non-empty"),
        ({"model": "m", "output": 1}, "input is required"),
        ({"model": "m", "input": -1, "output": 1}, "must be >= 0"),
        ({"model": "m", "input": "cheap", "output": 1}, "must be a number"),
        ({"model": "m", "input": 1, "output": 1, "match": "glob"}, "use one of exact, prefix, regex"),
        ({"model": "(", "input": 1, "output": 1, "match": "regex"}, "not a valid regex"),
        ({"model": "m", "input": 1, "output": 1, "effective_from": "soon"}, "use an ISO date"),
        ({"model": "m", "input": 1, "output": 1, "price": 3}, "unknown key"),
    ],
)
def test_bad_overrides_say_what_is_wrong(entry: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        override_row(entry)


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("claude-sonnet-4-5", "anthropic"),
        ("gemini-2.5-flash", "gcp.gemini"),
        ("gpt-4o-mini-2024-07-18", "openai"),
        ("text-embedding-3-small", "openai"),  # no maker pattern: the provider of its price
        ("my-private-model", ""),
    ],
)
def test_provider_is_guessed_from_the_model_name_when_a_span_has_none(model: str, provider: str) -> None:
    assert ModelPricer(BOOK).guess_provider(model) == provider
