"""How the CLI reaches the data: a running collector's API, a ClickHouse server, or the store itself.

A chDB data directory can be open in one process only, so when a collector owns it the CLI
goes through that collector's HTTP API. `resolve_target` makes that choice for every command
(reads, price writes, retention); `open_target_store` opens the store when the choice is a store.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from spanhouse.collector.errors import ConfigError, Forbidden, QueryError, StoreUnavailable, Unauthenticated
from spanhouse.collector.readpath import ReadPath
from spanhouse.collector.reports import Reader
from spanhouse.collector.service import running_collector
from spanhouse.collector.store import ClickHouseStore, open_store
from spanhouse.collector.store.client import QueryResult

ApiKey = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at runtime
    typer.Option("--api-key", envvar="SPANHOUSE_API_KEY", help="API key for a collector that requires one."),
]


def call_api(
    base_url: str,
    method: str,
    path: str,
    document: dict[str, Any] | None = None,
    *,
    api_key: str | None = None,
    timeout_s: float = 120.0,
) -> dict[str, Any]:
    """One JSON request to a collector's API; errors name the fix (key, operator key, input)."""
    base_url = base_url.rstrip("/")
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    body = json.dumps(document).encode() if document is not None else None
    request = urllib.request.Request(f"{base_url}{path}", body, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        message = _error_text(exc)
        if exc.code == 400:
            raise QueryError(message) from None
        if exc.code in (404, 409, 413):
            raise ConfigError(message) from None
        if exc.code == 401:
            raise Unauthenticated(
                f"the collector at {base_url} refused the request: {message} "
                "(pass --api-key or set SPANHOUSE_API_KEY)"
            ) from None
        if exc.code == 403:
            raise Forbidden(
                f"the collector at {base_url} refused the request: {message} "
                "(use a key of that tenant, or the operator key for shared settings)"
            ) from None
        raise StoreUnavailable(f"collector at {base_url} answered {exc.code}: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise StoreUnavailable(f"cannot reach the collector at {base_url}: {exc}") from None


class ApiReader:
    """Runs read-only queries through a collector's POST /v1/sql."""

    def __init__(self, base_url: str, *, timeout_s: float = 60.0, api_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.api_key = api_key

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        document = call_api(
            self.base_url,
            "POST",
            "/v1/sql",
            {"query": sql, "parameters": parameters or {}},
            api_key=self.api_key,
            timeout_s=self.timeout_s,
        )
        return QueryResult(tuple(document["columns"]), [tuple(row) for row in document["rows"]])


@dataclass(frozen=True)
class Target:
    """Where a command's data is: exactly one of a collector's API, a ClickHouse server or an
    embedded store directory this process may open."""

    api_url: str | None = None
    clickhouse_url: str | None = None
    data_dir: Path | None = None


def resolve_target(
    *,
    data_dir: Path,
    clickhouse_url: str | None = None,
    collector_url: str | None = None,
    create: bool = False,
) -> Target:
    """--collector-url wins, then --clickhouse-url, then the collector that owns `data_dir`, then
    the store in `data_dir` itself (which must exist unless `create`: only writes may make one)."""
    if collector_url:
        return Target(api_url=collector_url.rstrip("/"))
    if clickhouse_url:
        return Target(clickhouse_url=clickhouse_url)
    state = running_collector(data_dir)
    if state is not None:
        return Target(api_url=str(state["http_url"]).rstrip("/"))
    if not create and not (Path(data_dir) / "chdb").exists():
        raise StoreUnavailable(
            f"no spanhouse store at {data_dir}; start `spanhouse collector --data-dir {data_dir}` "
            "or run `spanhouse demo` first"
        )
    return Target(data_dir=Path(data_dir))


@contextmanager
def open_target_store(target: Target) -> Iterator[ClickHouseStore]:
    """The store of a server or embedded target, closed afterwards."""
    if target.api_url is not None:
        raise ValueError("the target is a collector's API; it has no store this process may open")
    store = open_store(url=target.clickhouse_url, data_dir=None if target.clickhouse_url else target.data_dir)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def open_reader(
    *,
    data_dir: Path,
    clickhouse_url: str | None = None,
    collector_url: str | None = None,
    api_key: str | None = None,
) -> Iterator[Reader]:
    target = resolve_target(data_dir=data_dir, clickhouse_url=clickhouse_url, collector_url=collector_url)
    if target.api_url is not None:
        yield ApiReader(target.api_url, api_key=api_key)
        return
    with open_target_store(target) as store, store_reader(store) as reader:
        yield reader


@contextmanager
def store_reader(store: ClickHouseStore) -> Iterator[Reader]:
    """A reader of every tenant on a store this process opened: the API's checked, read-only path."""
    read_path = ReadPath.for_store(store)
    try:
        yield read_path.operator()
    finally:
        read_path.close()


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read()).get("error", exc.reason)
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)
