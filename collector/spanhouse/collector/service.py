"""Assembles and runs a collector: store, exporter, pipeline, OTLP receivers and the HTTP API.

In embedded mode the collector owns its chDB data directory and writes `collector.json`
there, so the CLI can find it and go through its API instead of opening the store. A collector
on a ClickHouse server writes `collector-<server>.json` instead, and its write-ahead log
defaults to `<data-dir>/wal-<server>`: collectors on different stores can share a data
directory without sharing (and corrupting) a WAL or a state file. Each process removes only a
state file that names its own pid, and a WAL directory refuses a second owner (queue/wal.py).
"""

from __future__ import annotations

import json
import logging
import os
import re
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from spanhouse.collector.api.prices import price_routes
from spanhouse.collector.api.routes import api_routes
from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.config import DEFAULT_MAX_REQUEST_BYTES, ForwardExporterConfig, ProcessorConfig
from spanhouse.collector.errors import ConfigError, SpanhouseError, StoreUnavailable
from spanhouse.collector.exporters.clickhouse import ClickHouseExporter
from spanhouse.collector.exporters.otlp_forward import OtlpForwarder
from spanhouse.collector.httpserver import Handler, HttpServer
from spanhouse.collector.jobs import Job, Scheduler
from spanhouse.collector.pipeline import TracePipeline
from spanhouse.collector.prices.refresher import PriceRefresher
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.processors.pricing import ModelPricer
from spanhouse.collector.processors.request_filters import build_request_processors
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.queue.wal import DEFAULT_MAX_BYTES as DEFAULT_WAL_MAX_BYTES
from spanhouse.collector.queue.wal import wal_in_use
from spanhouse.collector.receivers.otlp_grpc import OtlpGrpcReceiver
from spanhouse.collector.receivers.otlp_http import OtlpHttpTracesHandler
from spanhouse.collector.store import Store, open_store
from spanhouse.collector.store.reconnecting import ReconnectingStore
from spanhouse.collector.telemetry import Metrics

logger = logging.getLogger(__name__)

STATE_FILE = "collector.json"


def store_target(clickhouse_url: str | None) -> str:
    """A short, file-name-safe name of a ClickHouse server (host, port, database; no credentials),
    or "" for the embedded store."""
    if not clickhouse_url:
        return ""
    parts = urllib.parse.urlsplit(clickhouse_url if "://" in clickhouse_url else f"http://{clickhouse_url}")
    database = parts.path.strip("/") or "default"
    name = f"{parts.hostname or 'localhost'}-{parts.port or 8123}-{database}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def default_wal_dir(data_dir: Path | None, clickhouse_url: str | None) -> Path:
    """`<data-dir>/wal` for the embedded store, `<data-dir>/wal-<server>` for a ClickHouse server."""
    target = store_target(clickhouse_url)
    return Path(data_dir or ".") / (f"wal-{target}" if target else "wal")


def state_file(data_dir: Path, clickhouse_url: str | None) -> Path:
    """Where a collector on this store announces itself (pid, endpoints) in `data_dir`."""
    target = store_target(clickhouse_url)
    return Path(data_dir) / (f"collector-{target}.json" if target else STATE_FILE)


@dataclass(frozen=True)
class CollectorSettings:
    data_dir: Path | None = None
    clickhouse_url: str | None = None
    grpc_endpoint: str = "127.0.0.1:4317"
    http_endpoint: str = "127.0.0.1:4318"
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    wal_dir: Path | None = None  # default: default_wal_dir(data_dir, clickhouse_url)
    wal_max_bytes: int = DEFAULT_WAL_MAX_BYTES
    retry_after_s: float = 1.0
    drain_timeout_s: float = 30.0
    api_keys: ApiKeys = field(default_factory=ApiKeys)
    tls_cert: Path | None = None  # PEM certificate chain; with tls_key, OTLP and the API use TLS
    tls_key: Path | None = None
    limits: SpanLimits = field(default_factory=SpanLimits)
    max_concurrent_requests: int = 64  # HTTP requests read, or gRPC calls in flight, at once
    processors: tuple[ProcessorConfig, ...] = ()  # attribute filters, redaction, sampling, in order
    forwarders: tuple[ForwardExporterConfig, ...] = ()  # otlp / otlphttp exporters


class Collector:
    def __init__(self, settings: CollectorSettings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.store: Store | None = None
        self.exporter: ClickHouseExporter | None = None
        self.wal: WriteAheadLog | None = None
        self.grpc: OtlpGrpcReceiver | None = None
        self.http: HttpServer | None = None
        self.prices: PriceRefresher | None = None
        self.forwarders: list[OtlpForwarder] = []
        self.scheduler: Scheduler | None = None
        self._state_path: Path | None = None

    def start(self) -> None:
        s = self.settings
        if not s.clickhouse_url and s.data_dir is not None:
            owner = running_collector(Path(s.data_dir))
            if owner is not None:
                raise StoreOwned(Path(s.data_dir), owner)
        # The WAL first: its lock decides whether this process may run here at all, before a
        # store is created or migrated.
        self.wal = WriteAheadLog(
            s.wal_dir or default_wal_dir(s.data_dir, s.clickhouse_url),
            max_bytes=s.wal_max_bytes,
            segment_bytes=min(s.wal_max_bytes // 4, 16 << 20),
        )
        if s.clickhouse_url:
            self.store = ReconnectingStore(s.clickhouse_url)
            try:
                self.store.migrate()
            except StoreUnavailable as exc:
                logger.warning("%s; accepting spans into the WAL and retrying", exc)
        else:
            self.store = open_store(data_dir=s.data_dir)
            applied = self.store.migrate()
            if applied:
                logger.info("applied %d migration(s) to %s", len(applied), self.store.description)
        queue = PersistentQueue(self.wal)
        pricer = ModelPricer()
        self.prices = PriceRefresher(self.store, pricer)
        self.prices.start()
        self.forwarders = [OtlpForwarder(f, self.metrics) for f in s.forwarders]
        for forwarder in self.forwarders:
            forwarder.start()
        pipeline = TracePipeline(
            queue,
            self.metrics,
            GenAIProcessor(pricer),
            limits=s.limits,
            request_processors=build_request_processors(s.processors),
            forwarders=self.forwarders,
        )
        self.exporter = ClickHouseExporter(self.store, self.metrics, queue, pipeline.rebuild)
        self._queue_gauges(queue, self.exporter)
        self.exporter.start()
        self.scheduler = Scheduler(self.store, self.metrics)
        for job in self.jobs():
            self.scheduler.add(job)
        self.scheduler.start()
        tls_pair, tls_context = _tls(s.tls_cert, s.tls_key)
        self.grpc = OtlpGrpcReceiver(
            pipeline,
            s.grpc_endpoint,
            max_concurrent_rpcs=s.max_concurrent_requests,
            max_request_bytes=s.max_request_bytes,
            retry_after_s=s.retry_after_s,
            auth=s.api_keys,
            tls=tls_pair,
        )
        host, port = _split_endpoint(s.http_endpoint)
        routes: dict[tuple[str, str], Handler] = {
            ("POST", "/v1/traces"): OtlpHttpTracesHandler(
                pipeline,
                max_request_bytes=s.max_request_bytes,
                retry_after_s=s.retry_after_s,
                auth=s.api_keys,
            )
        }
        routes.update(api_routes(self.store, self.metrics, s.api_keys))
        routes.update(price_routes(self.store, self.prices, s.api_keys))
        self.http = HttpServer(
            host,
            port,
            routes,
            max_body_bytes=s.max_request_bytes,
            tls=tls_context,
            max_concurrent_bodies=s.max_concurrent_requests,
        )
        self.grpc.start()
        self.http.start()
        if s.data_dir is not None:
            Path(s.data_dir).mkdir(parents=True, exist_ok=True)
            self._state_path = state_file(Path(s.data_dir), s.clickhouse_url)
            _write_state(self._state_path, self.state())
        logger.info(
            "OTLP/gRPC on %s, OTLP/HTTP and API on %s (%s, %s)",
            self.grpc_endpoint,
            self.http_url,
            "TLS" if tls_pair else "no TLS",
            f"API keys for {len(s.api_keys.tenants)} tenant(s)" if s.api_keys.enabled else "no API keys",
        )

    def jobs(self) -> list[Job]:
        """The scheduled jobs this collector runs (schemas/jobs/ SQL through the store)."""
        return []

    def _queue_gauges(self, queue: PersistentQueue, exporter: ClickHouseExporter) -> None:
        wal = queue.wal
        self.metrics.gauge(
            "spanhouse_queue_size_bytes", "Bytes of the write-ahead log on disk.", lambda: wal.size_bytes
        )
        self.metrics.gauge(
            "spanhouse_queue_capacity_bytes", "Size at which the WAL refuses requests.", lambda: wal.max_bytes
        )
        self.metrics.gauge(
            "spanhouse_queue_appends", "Requests appended to the WAL since start.", lambda: wal.appends
        )
        self.metrics.gauge(
            "spanhouse_queue_fsyncs",
            "WAL fsyncs since start (shared by concurrent appends).",
            lambda: wal.fsyncs,
        )
        self.metrics.gauge(
            "spanhouse_queue_requests", "Requests durable in the WAL, not yet stored.", lambda: queue.depth
        )
        self.metrics.gauge(
            "spanhouse_exporter_failing",
            "1 while inserts fail and requests are spooled to the WAL.",
            lambda: exporter.failing,
        )

    @property
    def grpc_endpoint(self) -> str:
        assert self.grpc is not None
        return f"{self.grpc.host}:{self.grpc.port}"

    @property
    def http_url(self) -> str:
        assert self.http is not None
        host, port = self.http.address
        return f"{self.http.scheme}://{host}:{port}"

    def state(self) -> dict:
        assert self.store is not None and self.wal is not None
        return {
            "pid": os.getpid(),
            "grpc_endpoint": self.grpc_endpoint,
            "http_url": self.http_url,
            "store": self.store.description,
            "wal_dir": str(self.wal.directory.resolve()),
        }

    def shutdown(self) -> None:
        """Stop receiving, store what was accepted, close the store. Idempotent."""
        if self.grpc is not None:
            self.grpc.shutdown()
            self.grpc = None
        if self.http is not None:
            self.http.shutdown()
            self.http = None
        flush_until = time.monotonic() + 5.0  # one flush budget shared by every forwarder
        for forwarder in self.forwarders:
            forwarder.shutdown(flush_timeout_s=max(0.0, flush_until - time.monotonic()))
        self.forwarders = []
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
        if self.prices is not None:
            self.prices.shutdown()
            self.prices = None
        if self.exporter is not None:
            self.exporter.shutdown(drain_timeout_s=self.settings.drain_timeout_s)
            self.exporter = None
        if self.wal is not None:
            self.wal.close()
            self.wal = None
        if self._state_path is not None:
            _remove_own_state(self._state_path)
            self._state_path = None
        if self.store is not None:
            self.store.close()
            self.store = None


class StoreOwned(SpanhouseError):
    """The embedded store is owned by a running collector; the message names it."""

    def __init__(self, data_dir: Path, owner: dict) -> None:
        self.owner = owner
        super().__init__(
            f"the embedded store at {data_dir} is owned by a running collector (pid {owner['pid']}, "
            f"{owner['http_url']}); stop it first, or give this collector another --data-dir"
        )


def running_collector(data_dir: Path) -> dict | None:
    """The state of the live collector that owns the embedded store in `data_dir`, or None."""
    path = Path(data_dir) / STATE_FILE
    try:
        state = json.loads(path.read_text())
        os.kill(int(state["pid"]), 0)
        if "wal_dir" in state and not wal_in_use(Path(state["wal_dir"])):
            return None  # left by a collector that was killed; its pid may be another process's now
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state


def _write_state(path: Path, state: dict) -> None:
    """Write the state file whole (readers never see half of it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def _remove_own_state(path: Path) -> None:
    """Remove the state file only if it is still this process's (never another collector's)."""
    try:
        if int(json.loads(path.read_text())["pid"]) == os.getpid():
            path.unlink()
    except (OSError, ValueError, KeyError, TypeError):
        pass


def _tls(cert: Path | None, key: Path | None) -> tuple[tuple[bytes, bytes] | None, ssl.SSLContext | None]:
    """The gRPC key pair and the HTTP server context, or (None, None) without TLS."""
    if cert is None and key is None:
        return None, None
    if cert is None or key is None:
        raise ConfigError("TLS needs both a certificate (--tls-cert) and its private key (--tls-key)")
    try:
        pair = (Path(key).read_bytes(), Path(cert).read_bytes())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {cert} and key {key}: {exc}") from None
    return pair, context


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"endpoint {endpoint!r} must be host:port, e.g. 127.0.0.1:4318")
    return host.strip("[]"), int(port)
