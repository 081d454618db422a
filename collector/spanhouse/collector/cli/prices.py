"""`spanhouse prices`: sync the genai-prices catalogue, list prices, set user prices, re-price.

Writes go to the store directly, or through the collector's API when a running collector
owns the embedded store (a chDB directory is open in one process only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from spanhouse.collector.cli.access import ApiKey, call_api, open_target_store, resolve_target
from spanhouse.collector.cli.options import (
    DEFAULT_DATA_DIR,
    ClickHouseUrl,
    CollectorUrl,
    DataDir,
    ServiceFilter,
    Since,
    Until,
    console,
    read_or_fail,
    time_range,
)
from spanhouse.collector.cli.options import fail as _fail
from spanhouse.collector.cli.output import OutputFormat, render
from spanhouse.collector.errors import ConfigError, SpanhouseError
from spanhouse.collector.prices.overrides import MATCH_KINDS, load_overrides, override_row
from spanhouse.collector.prices.store import reprice, sync_catalogue, write_rows
from spanhouse.collector.reports import report_parameters
from spanhouse.collector.store import Store, load_job

prices_app = typer.Typer(help="Model prices: catalogue sync, user prices, re-pricing.", no_args_is_help=True)

Rate = Annotated[Optional[float], typer.Option(min=0.0, help="USD per million tokens.")]  # noqa: UP045


class _ApiWriter:
    def __init__(self, base_url: str, api_key: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def post(self, path: str, document: dict[str, Any]) -> dict[str, Any]:
        return call_api(self.base_url, "POST", path, document, api_key=self.api_key, timeout_s=600)


class _StoreWriter:
    def __init__(self, store: Store) -> None:
        self.store = store

    def post(self, path: str, document: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/prices":
            rows = [override_row(e, where=f"prices[{i}]") for i, e in enumerate(document["prices"])]
            return {"written": write_rows(self.store, rows)}
        if path == "/v1/prices/sync":
            return {"written": sync_catalogue(self.store)}
        staged, priced = reprice(self.store, document)
        return {"repriced": staged, "priced": priced}


@contextmanager
def _writer(
    data_dir: Path, clickhouse_url: str | None, collector_url: str | None, api_key: str | None
) -> Iterator[_ApiWriter | _StoreWriter]:
    target = resolve_target(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, create=True
    )
    if target.api_url is not None:
        yield _ApiWriter(target.api_url, api_key)
        return
    with open_target_store(target) as store:
        store.migrate()
        yield _StoreWriter(store)


def _post(
    path: str,
    document: dict[str, Any],
    data_dir: Path,
    url: str | None,
    collector: str | None,
    api_key: str | None,
) -> dict:
    try:
        with _writer(data_dir, url, collector, api_key) as writer:
            return writer.post(path, document)
    except SpanhouseError as exc:
        _fail(str(exc))
    raise AssertionError("unreachable")


@prices_app.command("sync")
def sync(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Load the installed genai-prices catalogue into model_prices (the collector also does at first start)."""
    with console.status("syncing the genai-prices catalogue..."):
        result = _post("/v1/prices/sync", {}, data_dir, clickhouse_url, collector_url, api_key)
    console.print(f"synced {result['written']} catalogue price rows")


@prices_app.command("set")
def set_price(
    model: Annotated[
        str, typer.Argument(help="Model name as spans report it (or a prefix/regex, see --match).")
    ],
    input_price: Annotated[float, typer.Option("--input", min=0.0, help="USD per million input tokens.")],
    output_price: Annotated[float, typer.Option("--output", min=0.0, help="USD per million output tokens.")],
    cached_input: Rate = None,
    cache_write: Rate = None,
    reasoning: Rate = None,
    provider: Annotated[Optional[str], typer.Option(help="Provider name; default: any.")] = None,  # noqa: UP045
    match: Annotated[str, typer.Option(help="exact, prefix or regex.")] = "exact",
    effective_from: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="ISO date or time (UTC) the price applies from; default: always."),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Set a user price for a private or fine-tuned model (it outranks the catalogue)."""
    entry = {"model": model, "input": input_price, "output": output_price, "match": match}
    optional = {
        "cached_input": cached_input,
        "cache_write": cache_write,
        "reasoning": reasoning,
        "provider": provider,
        "effective_from": effective_from,
    }
    entry.update({k: v for k, v in optional.items() if v is not None})
    if match not in MATCH_KINDS:
        _fail(f"--match {match!r} must be one of {', '.join(MATCH_KINDS)}")
    try:
        row = override_row(entry, where="price")
    except ConfigError as exc:
        _fail(str(exc))
    _post("/v1/prices", {"prices": [entry]}, data_dir, clickhouse_url, collector_url, api_key)
    console.print(f"set {row.price_id}; run `spanhouse prices reprice` to apply it to stored steps")


@prices_app.command("load")
def load(
    path: Annotated[
        Path, typer.Argument(help="YAML file with a `prices:` list.", exists=True, dir_okay=False)
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Set the user prices of a YAML file."""
    import yaml

    try:
        rows = load_overrides(path)
    except ConfigError as exc:
        _fail(str(exc))
    entries = yaml.safe_load(path.read_text("utf-8"))["prices"]
    for entry in entries:
        if isinstance(entry.get("effective_from"), (dt.date, dt.datetime)):
            entry["effective_from"] = entry["effective_from"].isoformat()
    _post("/v1/prices", {"prices": entries}, data_dir, clickhouse_url, collector_url, api_key)
    console.print(f"set {len(rows)} user price(s) from {path}")


@prices_app.command("list")
def list_prices(
    search: Annotated[str, typer.Argument(help="Only price ids containing this text.")] = "",
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """List price rows (user prices first)."""
    with read_or_fail(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, api_key=api_key
    ) as r:
        result = r.query(load_job("prices/list"), {"search": search, "limit": limit})
    render(result, fmt, title="model prices")


@prices_app.command("unpriced")
def unpriced(
    since: Since = None,
    until: Until = None,
    service: ServiceFilter = "",
    tenant: Annotated[str, typer.Option(help="Tenant id.")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Models whose calls have no known price (their cost is NULL, not 0)."""
    start, end = time_range(since, until)
    try:
        parameters = report_parameters(
            tenant=tenant, since=start, until=end, name="unpriced_models", options={"service": service}
        )
    except SpanhouseError as exc:
        _fail(str(exc))
    with read_or_fail(
        data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url, api_key=api_key
    ) as r:
        result = r.query(load_job("reports/unpriced_models"), parameters)
    render(result, fmt, title="unpriced models")


@prices_app.command("reprice")
def reprice_range(
    since: Since = None,
    until: Until = None,
    tenant: Annotated[str, typer.Option(help="Tenant id; default: every tenant.")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    clickhouse_url: ClickHouseUrl = None,
    collector_url: CollectorUrl = None,
    api_key: ApiKey = None,
) -> None:
    """Re-price the stored model calls of a time range with the current prices."""
    start, end = time_range(since, until)
    try:
        parameters = report_parameters(tenant=tenant, since=start, until=end)
    except SpanhouseError as exc:
        _fail(str(exc))
    with console.status("re-pricing..."):
        result = _post("/v1/prices/reprice", parameters, data_dir, clickhouse_url, collector_url, api_key)
    unpriced = result["repriced"] - result["priced"]
    console.print(
        f"re-priced {result['repriced']} model call(s); {unpriced} without a known price have no cost"
        + (" (see `spanhouse prices unpriced`)" if unpriced else "")
    )
