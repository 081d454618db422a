"""`spanhouse collector`: run a collector from a config file, flags, or the defaults.

Every flag defaults to None and overrides its config key only when given (on the command line
or through its environment variable); the defaults themselves are written once, in config.py.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from spanhouse.collector.cli.options import console, fail
from spanhouse.collector.config import LOG_LEVELS, CollectorConfig, Overrides, load_config
from spanhouse.collector.errors import SpanhouseError

if TYPE_CHECKING:
    from spanhouse.collector.service import Collector

OptionalPath = Optional[Path]  # noqa: UP045 - typer reads the annotations at runtime
OptionalStr = Optional[str]  # noqa: UP045
OptionalInt = Optional[int]  # noqa: UP045
OptionalFloat = Optional[float]  # noqa: UP045


def collector(
    config: Annotated[
        OptionalPath,
        typer.Option(
            "--config",
            envvar="SPANHOUSE_CONFIG",
            help="Collector YAML (OTel Collector shape, see deploy/collector.yaml); flags given override it.",
            dir_okay=False,
        ),
    ] = None,
    data_dir: Annotated[
        OptionalPath,
        typer.Option(
            "--data-dir",
            envvar="SPANHOUSE_DATA_DIR",
            help="Embedded store, WAL and state directory (default: spanhouse-data).",
            file_okay=False,
        ),
    ] = None,
    clickhouse_url: Annotated[
        OptionalStr,
        typer.Option(
            "--clickhouse-url",
            envvar="SPANHOUSE_CLICKHOUSE_URL",
            help="ClickHouse server, e.g. http://user:password@host:8123/database (instead of the embedded store).",
        ),
    ] = None,
    grpc_endpoint: Annotated[
        OptionalStr, typer.Option(help="OTLP/gRPC listen address (default 127.0.0.1:4317; port 0 picks one).")
    ] = None,
    http_endpoint: Annotated[
        OptionalStr, typer.Option(help="OTLP/HTTP and API listen address (default 127.0.0.1:4318).")
    ] = None,
    log_level: Annotated[OptionalStr, typer.Option(help="debug, info (default), warning or error.")] = None,
    wal_dir: Annotated[
        OptionalPath,
        typer.Option(
            help="Write-ahead log directory, owned by one collector at a time "
            "(default: <data-dir>/wal; <data-dir>/wal-<host>-<port>-<database> with --clickhouse-url).",
            file_okay=False,
        ),
    ] = None,
    wal_max_bytes: Annotated[
        OptionalInt,
        typer.Option(min=1 << 16, help="WAL size at which clients are throttled (429 / RESOURCE_EXHAUSTED)."),
    ] = None,
    retry_after: Annotated[
        OptionalFloat, typer.Option(min=0.0, help="Seconds throttled clients are told to wait.")
    ] = None,
    api_keys: Annotated[
        OptionalPath,
        typer.Option(
            help="YAML file 'api_keys: {<key>: <tenant>}' (else env SPANHOUSE_API_KEYS=<key>=<tenant>,...)."
        ),
    ] = None,
    experiments_interval: Annotated[
        OptionalFloat,
        typer.Option(
            min=0.05,
            help="Seconds between scheduled evaluations of running experiments (default 300; "
            "experiments.interval in the config).",
        ),
    ] = None,
    tls_cert: Annotated[
        OptionalPath, typer.Option(help="PEM certificate: serve OTLP and the API over TLS.")
    ] = None,
    tls_key: Annotated[OptionalPath, typer.Option(help="PEM private key of --tls-cert.")] = None,
    max_spans_per_request: Annotated[
        OptionalInt,
        typer.Option(min=1, help="Requests with more spans are refused (413 / RESOURCE_EXHAUSTED)."),
    ] = None,
    drain_timeout: Annotated[
        OptionalFloat,
        typer.Option(min=0.0, help="On SIGTERM, seconds to keep trying a failing store before exiting."),
    ] = None,
    max_concurrent_requests: Annotated[
        OptionalInt,
        typer.Option(
            min=1,
            help="HTTP requests read, or gRPC calls in flight, at once; more get HTTP 503 + Retry-After "
            "or gRPC RESOURCE_EXHAUSTED.",
        ),
    ] = None,
    memory_limit_mib: Annotated[
        OptionalInt,
        typer.Option(
            min=0,
            help="Resident memory budget in MiB: above 7/8 of it new requests get 429 / RESOURCE_EXHAUSTED "
            "with Retry-After, but one at a time when nothing else is in flight (default 0: none).",
        ),
    ] = None,
    workers: Annotated[
        OptionalInt,
        typer.Option(
            min=0,
            max=256,
            help="Processes that parse and normalize requests (default 0: the receiving threads).",
        ),
    ] = None,
    max_attribute_chars: Annotated[
        OptionalInt,
        typer.Option(min=16, help="Longer attribute values are truncated to this many characters."),
    ] = None,
    attribution_interval: Annotated[
        OptionalFloat,
        typer.Option(
            help="Seconds between runs of the job that attributes steps to runs and agents (default 2)."
        ),
    ] = None,
    attribution_lateness: Annotated[
        OptionalFloat,
        typer.Option(
            help="Seconds a trace stays open to late parents before its attribution is final (default 900)."
        ),
    ] = None,
    alert_interval: Annotated[
        OptionalFloat,
        typer.Option(min=0.0, help="Seconds between alert evaluations (default 60; 0 = only on demand)."),
    ] = None,
    max_query_seconds: Annotated[
        OptionalFloat,
        typer.Option(
            min=0.1, help="A user query (SQL API, reports) is stopped after this many seconds (default 30)."
        ),
    ] = None,
    max_query_memory_mb: Annotated[
        OptionalInt, typer.Option(min=16, help="Memory one user query may use, in MiB (default 1024).")
    ] = None,
    max_concurrent_queries: Annotated[
        OptionalInt, typer.Option(min=1, help="User queries running at once in all (default 4).")
    ] = None,
    max_queries_per_tenant: Annotated[
        OptionalInt,
        typer.Option(
            min=1, help="User queries of one tenant running at once; more get HTTP 429 (default 2)."
        ),
    ] = None,
    clickhouse_reader_url: Annotated[
        OptionalStr,
        typer.Option(
            envvar="SPANHOUSE_CLICKHOUSE_READER_URL",
            help="Server mode: user queries run as this restricted user (made by `spanhouse migrate "
            "--reader-password`), e.g. http://spanhouse_reader:pw@host:8123/default.",
        ),
    ] = None,
    unhealthy_after: Annotated[
        OptionalFloat,
        typer.Option(
            min=0.0, help="/healthz answers 503 once inserts have failed this many seconds (default 60)."
        ),
    ] = None,
) -> None:
    """Run the collector until SIGTERM or Ctrl-C."""
    level = log_level.lower() if log_level else None
    if level is not None and level not in LOG_LEVELS:
        fail(f"--log-level {log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    overrides = Overrides(
        data_dir=_text(data_dir),
        clickhouse_url=clickhouse_url,
        grpc_endpoint=grpc_endpoint,
        http_endpoint=http_endpoint,
        wal_dir=_text(wal_dir),
        wal_max_bytes=wal_max_bytes,
        retry_after=retry_after,
        drain_timeout=drain_timeout,
        api_keys_file=_text(api_keys),
        tls_cert=_text(tls_cert),
        tls_key=_text(tls_key),
        max_concurrent_requests=max_concurrent_requests,
        memory_limit_mib=memory_limit_mib,
        max_spans_per_request=max_spans_per_request,
        max_attribute_chars=max_attribute_chars,
        workers=workers,
        log_level=level,
        attribution_interval=attribution_interval,
        attribution_lateness=attribution_lateness,
        alert_interval=alert_interval,
        max_query_seconds=max_query_seconds,
        max_query_memory_bytes=None if max_query_memory_mb is None else max_query_memory_mb << 20,
        max_concurrent_queries=max_concurrent_queries,
        max_queries_per_tenant=max_queries_per_tenant,
        reader_url=clickhouse_reader_url,
        unhealthy_after=unhealthy_after,
        experiments_interval=experiments_interval,
    )
    try:
        merged = overrides.apply(load_config(config) if config is not None else CollectorConfig())
    except SpanhouseError as exc:
        fail(str(exc))
    run_collector(merged)


def run_collector(config: CollectorConfig) -> None:
    """Start a collector on `config`, serve until SIGTERM or Ctrl-C, then drain and stop."""
    from spanhouse.collector.auth import ENV_API_KEYS, ApiKeys
    from spanhouse.collector.gcpolicy import tune_for_ingest
    from spanhouse.collector.service import Collector

    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>`: every thread's stack to stderr, for a hang
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        keys = ApiKeys.load(config.receiver.api_keys_file, os.environ.get(ENV_API_KEYS))
    except SpanhouseError as exc:
        fail(str(exc))
    service = Collector(config, api_keys=keys)
    stop = threading.Event()
    stopping = _Stopping(service)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.now() if stop.is_set() else stop.set())
    try:
        service.start()
    except (SpanhouseError, OSError, ValueError) as exc:
        service.shutdown()
        fail(str(exc))
    tune_for_ingest()  # after start: what start made is never garbage
    console.print(  # one line, whatever the width: logs and scripts read the URL from it
        f"spanhouse collector: OTLP/gRPC {service.grpc_endpoint}, OTLP/HTTP + API {service.http_url}",
        soft_wrap=True,
    )
    # Signal handlers run in the main thread only, once it runs Python again; a wait without a
    # timeout is not always woken by a signal another thread received, so the wait wakes itself.
    while not stop.wait(timeout=0.25):
        pass
    console.print(
        "shutting down: storing what was accepted (Ctrl-C again to stop at once; the write-ahead "
        "log keeps the rest for the next start)",
        soft_wrap=True,
    )
    with _DrainProgress(service):
        service.shutdown()
    if stopping.forced:
        raise typer.Exit(130)


class _Stopping:
    """A second Ctrl-C (or SIGTERM) during shutdown: stop draining at once. Everything accepted
    is durable in the WAL already, so nothing is lost; if an insert in flight does not return
    within `grace_s`, the process exits anyway."""

    def __init__(self, service: Collector, grace_s: float = 5.0) -> None:
        self.service = service
        self.grace_s = grace_s
        self.forced = False

    def now(self) -> None:
        if self.forced:
            return
        self.forced = True
        status = self.service.drain_status()
        left = status.requests if status is not None else 0
        console.print(
            f"stopping now: {left} request(s) stay in the write-ahead log and are stored at the next start",
            soft_wrap=True,
        )
        self.service.abort()
        watchdog = threading.Timer(self.grace_s, os._exit, (130,))
        watchdog.daemon = True
        watchdog.start()


class _DrainProgress:
    """While a shutdown drains the WAL, a line every few seconds: what is left, and how to stop."""

    def __init__(self, service: Collector, every_s: float = 2.0) -> None:
        self.service = service
        self.every_s = every_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._report, name="drain-progress", daemon=True)

    def __enter__(self) -> _DrainProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()

    def _report(self) -> None:
        while not self._done.wait(self.every_s):
            status = self.service.drain_status()
            if status is None or not status.requests:
                continue
            store = (
                f"; the store is failing, retried for {status.seconds_left:.0f} s more"
                if status.failing
                else ""
            )
            console.print(
                f"draining: {status.requests} request(s) left in the write-ahead log{store}; "
                "Ctrl-C again to stop now (they are stored at the next start)",
                soft_wrap=True,
            )


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)
