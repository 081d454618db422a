"""Assembles and runs a collector: store, exporter, pipeline, OTLP receivers and the HTTP API.

In embedded mode the collector owns its chDB data directory and writes `collector.json`
there, so the CLI can find it and go through its API instead of opening the store. A collector
on a ClickHouse server writes `collector-<server>.json` instead, and its write-ahead log
defaults to `<data-dir>/wal-<server>` (config.py): collectors on different stores can share a
data directory without sharing (and corrupting) a WAL or a state file. Each process removes only
a state file that names its own pid, and a WAL directory refuses a second owner (queue/wal.py).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from spanhouse.collector.alerts.service import AlertService, alert_job, instance_id
from spanhouse.collector.api.access import ReadAccess
from spanhouse.collector.api.alerts import alert_routes
from spanhouse.collector.api.browsers import BrowserGuard, is_loopback
from spanhouse.collector.api.budgets import budget_routes
from spanhouse.collector.api.prices import price_routes
from spanhouse.collector.api.routes import api_routes
from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.budgets import sync_config_budgets
from spanhouse.collector.config import STATE_FILE, CollectorConfig, TlsServerConfig
from spanhouse.collector.errors import ConfigError, SpanhouseError, StoreError, StoreUnavailable
from spanhouse.collector.experiments.schedule import evaluation_job
from spanhouse.collector.exporters.clickhouse import ClickHouseExporter
from spanhouse.collector.exporters.otlp_forward import OtlpForwarder
from spanhouse.collector.httpserver import Handler, HttpServer
from spanhouse.collector.jobs import Job, Scheduler
from spanhouse.collector.jobs.attribution import AttributionSettings, attribution_job
from spanhouse.collector.memory import MemoryLimiter, use_system_arrow_allocator
from spanhouse.collector.pipeline import MAX_BUILDING, TracePipeline
from spanhouse.collector.prices.refresher import PriceRefresher
from spanhouse.collector.processors.experiment_attributes import ExperimentAttributes
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.processors.pricing import ModelPricer
from spanhouse.collector.processors.request_filters import build_request_processors
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.queue.wal import wal_in_use
from spanhouse.collector.readpath import ReadPath
from spanhouse.collector.receivers.otlp_grpc import OtlpGrpcReceiver
from spanhouse.collector.receivers.otlp_http import OtlpHttpTracesHandler
from spanhouse.collector.retention import follow_retention
from spanhouse.collector.store import Store, open_store
from spanhouse.collector.store.reconnecting import ReconnectingStore
from spanhouse.collector.telemetry import Metrics
from spanhouse.collector.workers import WorkerPool, WorkerSetup

logger = logging.getLogger(__name__)


class Collector:
    """One collector: store, WAL-backed queue, pipeline, exporters, OTLP receivers and the API,
    started together by `start()` and stopped in the reverse order by `shutdown()`.

    `config` is the whole configuration (file, flags and defaults already merged, see config.py);
    `api_keys` maps keys to tenants (none: every request is the default tenant's)."""

    def __init__(self, config: CollectorConfig, *, api_keys: ApiKeys | None = None) -> None:
        self.config = config
        self.api_keys = api_keys or ApiKeys()
        self.metrics = Metrics()
        self.store: Store | None = None
        self.exporter: ClickHouseExporter | None = None
        self.wal: WriteAheadLog | None = None
        self.grpc: OtlpGrpcReceiver | None = None
        self.http: HttpServer | None = None
        self.prices: PriceRefresher | None = None
        self.read_path: ReadPath | None = None
        self.forwarders: list[OtlpForwarder] = []
        self.memory: MemoryLimiter | None = None
        self.workers: WorkerPool | None = None
        self.scheduler: Scheduler | None = None
        self.alerts: AlertService | None = None
        self._state_path: Path | None = None

    def start(self) -> None:
        self._check_ports()
        self._check_store_owner()
        # The WAL first: its lock decides whether this process may run here at all, before a
        # store is created or migrated.
        max_bytes = self.config.clickhouse.wal.max_bytes
        self.wal = WriteAheadLog(
            self.config.clickhouse.wal_dir, max_bytes=max_bytes, segment_bytes=min(max_bytes // 4, 16 << 20)
        )
        store = self.store = self._open_store()
        use_system_arrow_allocator()
        pipeline = self._start_pipeline(store, self.wal)
        self.alerts = self._start_alerts(store)
        self.scheduler = Scheduler(store, self.metrics)
        for job in self.jobs():
            self.scheduler.add(job)
        self.scheduler.start()
        self._start_receivers(pipeline, store)
        self.config.clickhouse.local_dir.mkdir(parents=True, exist_ok=True)
        self._state_path = self.config.clickhouse.state_file
        _write_state(self._state_path, self.state())
        logger.info(
            "OTLP/gRPC on %s, OTLP/HTTP and API on %s (%s, %s)",
            self.grpc_endpoint,
            self.http_url,
            "TLS" if self.config.receiver.tls else "no TLS",
            f"API keys for {len(self.api_keys.tenants)} tenant(s)"
            if self.api_keys.enabled
            else "no API keys",
        )

    def _check_ports(self) -> None:
        """Both listen addresses are free, checked before anything is created or migrated."""
        receiver = self.config.receiver
        for protocol, flag, endpoint in (
            ("grpc", "--grpc-endpoint", receiver.grpc.endpoint),
            ("http", "--http-endpoint", receiver.http.endpoint),
        ):
            problem = _listen_problem(endpoint)
            if problem:
                raise ConfigError(
                    f"cannot listen for OTLP/{protocol.upper()} on {endpoint}: {problem}; choose another "
                    f"with {flag} host:port (port 0 picks a free one), or receivers.otlp.protocols."
                    f"{protocol}.endpoint in --config"
                )

    def _check_store_owner(self) -> None:
        """The embedded store is one process's: a second collector on it is told whose it is."""
        if self.config.clickhouse.url:
            return
        owner = running_collector(self.config.clickhouse.local_dir)
        if owner is not None:
            raise StoreOwned(self.config.clickhouse.local_dir, owner)

    def _open_store(self) -> Store:
        """A server may be down at start (spans then wait in the WAL); the embedded store may not."""
        clickhouse = self.config.clickhouse
        if clickhouse.url:
            store = ReconnectingStore(clickhouse.url)
            try:
                store.migrate()
                follow_retention(store)
            except StoreUnavailable as exc:
                logger.warning("%s; accepting spans into the WAL and retrying", exc)
            return store
        embedded = open_store(data_dir=clickhouse.local_dir)
        applied = embedded.migrate()
        follow_retention(embedded)
        if applied:
            logger.info("schema of %s: applied %s", embedded.description, ", ".join(applied))
        return embedded

    def _start_pipeline(self, store: Store, wal: WriteAheadLog) -> TracePipeline:
        """Queue, prices, forwarders, the ClickHouse exporter and the pipeline feeding them."""
        config = self.config
        queue = PersistentQueue(wal)
        pricer = ModelPricer()
        self.prices = PriceRefresher(store, pricer)
        self.prices.start()
        self.forwarders = [OtlpForwarder(f, self.metrics) for f in config.forwarders]
        for forwarder in self.forwarders:
            forwarder.start()
        budget = config.receiver.memory_limit_mib << 20
        if budget:
            self.memory = MemoryLimiter(budget, budget // 8)
            self.memory.start()
        limits = SpanLimits.from_config(config.genai)
        genai = config.genai
        experiments = ExperimentAttributes(genai.experiment_id_attributes, genai.variant_attributes)
        if genai.workers:
            setup = WorkerSetup(limits, config.request_processors, experiments)
            self.workers = WorkerPool(genai.workers, setup, pricer)
        pipeline = TracePipeline(
            queue,
            self.metrics,
            GenAIProcessor(pricer, experiments),
            limits=limits,
            request_processors=build_request_processors(config.request_processors),
            forwarders=self.forwarders,
        )
        pipeline.memory, pipeline.workers = self.memory, self.workers
        if genai.workers:
            pipeline.building = threading.BoundedSemaphore(max(MAX_BUILDING, 2 * genai.workers))
        self.exporter = ClickHouseExporter(
            store, self.metrics, queue, pipeline.rebuild, batch=self.config.clickhouse.batch
        )
        self._queue_gauges(queue, self.exporter)
        self.exporter.start()
        return pipeline

    def _start_receivers(self, pipeline: TracePipeline, store: Store) -> None:
        """OTLP/gRPC, and OTLP/HTTP beside the API on one HTTP server; both accept from here on."""
        receiver = self.config.receiver
        wal = self.config.clickhouse.wal
        tls_pair, tls_context = _tls(receiver.tls)
        max_request_bytes = receiver.max_request_bytes
        self.grpc = OtlpGrpcReceiver(
            pipeline,
            receiver.grpc.endpoint,
            max_concurrent_rpcs=receiver.http.max_concurrent_requests,
            max_request_bytes=max_request_bytes,
            retry_after_s=wal.retry_after,
            auth=self.api_keys,
            tls=tls_pair,
        )
        assert self.prices is not None
        routes: dict[tuple[str, str], Handler] = {
            ("POST", "/v1/traces"): OtlpHttpTracesHandler(
                pipeline,
                max_request_bytes=max_request_bytes,
                retry_after_s=wal.retry_after,
                auth=self.api_keys,
            )
        }
        query = self.config.query
        self.read_path = ReadPath.for_store(store, query.limits, reader_url=query.reader_url)
        access = ReadAccess(self.read_path, self.api_keys)
        routes.update(
            api_routes(
                store,
                self.metrics,
                self.api_keys,
                read_path=self.read_path,
                inserts=self.exporter,
                unhealthy_after_s=self.config.clickhouse.unhealthy_after,
            )
        )
        routes.update(price_routes(store, self.prices, self.api_keys))
        routes.update(budget_routes(store, access))
        routes.update(alert_routes(access, self.alerts))
        host, port = _split_endpoint(receiver.http.endpoint)
        self.http = HttpServer(
            host,
            port,
            routes,
            max_body_bytes=max_request_bytes,
            tls=tls_context,
            max_concurrent_bodies=receiver.http.max_concurrent_requests,
            guard=BrowserGuard(lambda: self.api_keys.enabled, loopback=is_loopback(host)).refusal,
        )
        self.grpc.start()
        self.http.start()

    def _start_alerts(self, store: Store) -> AlertService:
        """Follow the config file's budgets, then deliver alerts in the background (evaluation is a job)."""
        if self.config.budgets is not None:
            try:
                sync_config_budgets(store, self.config.budgets)
            except StoreError as exc:
                logger.warning(
                    "could not apply the config file's budgets (they apply at the next start): %s", exc
                )
        service = AlertService(
            store, self.config.alerts, instance=instance_id(self.config.clickhouse.local_dir)
        )
        service.start()
        return service

    def jobs(self) -> list[Job]:
        """The scheduled jobs this collector runs (schemas/jobs/ SQL through the store)."""
        jobs = [evaluation_job(self.config.experiments.interval, self.alerts)]
        if self.alerts is not None and self.config.alerts.interval > 0:
            jobs.append(alert_job(self.alerts))
        attribution = self.config.clickhouse.attribution
        jobs.append(
            attribution_job(
                AttributionSettings(interval_s=attribution.interval, lateness_s=attribution.lateness)
            )
        )
        return jobs

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

    def abort(self) -> None:
        """Make a shutdown in progress stop draining now; the WAL keeps what is not stored."""
        if self.exporter is not None:
            self.exporter.abort()

    def drain_status(self) -> DrainStatus | None:
        """What a shutdown still has to store, or None once the exporter has stopped."""
        exporter = self.exporter
        if exporter is None:
            return None
        left = exporter.drain_deadline - time.monotonic()
        return DrainStatus(exporter.queue.depth, exporter.failing, max(0.0, left))

    def shutdown(self) -> None:
        """Stop receiving, store what was accepted, close the store. Idempotent."""
        self._stop_receiving()
        self._stop_background()
        if self.exporter is not None:
            self.exporter.shutdown(drain_timeout_s=self.config.clickhouse.wal.drain_timeout)
            self.exporter = None
        if self.wal is not None:
            self.wal.close()
            self.wal = None
        if self._state_path is not None:
            _remove_own_state(self._state_path)
            self._state_path = None
        if self.read_path is not None:
            self.read_path.close()
            self.read_path = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def _stop_receiving(self) -> None:
        if self.grpc is not None:
            self.grpc.shutdown()
            self.grpc = None
        if self.http is not None:
            self.http.shutdown()
            self.http = None
        if self.memory is not None:
            self.memory.shutdown()
            self.memory = None
        if self.workers is not None:
            self.workers.shutdown()
            self.workers = None

    def _stop_background(self) -> None:
        """Forwarders (one flush budget shared by all), scheduled jobs, prices and alerts."""
        flush_until = time.monotonic() + 5.0
        for forwarder in self.forwarders:
            forwarder.shutdown(flush_timeout_s=max(0.0, flush_until - time.monotonic()))
        self.forwarders = []
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
        if self.prices is not None:
            self.prices.shutdown()
            self.prices = None
        if self.alerts is not None:
            self.alerts.shutdown()
            self.alerts = None


@dataclass(frozen=True)
class DrainStatus:
    """How far a shutdown's drain is: requests not yet stored, whether the store fails, and how
    long a failing store is retried still."""

    requests: int
    failing: bool
    seconds_left: float


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


def _tls(tls: TlsServerConfig | None) -> tuple[tuple[bytes, bytes] | None, ssl.SSLContext | None]:
    """The gRPC key pair and the HTTP server context, or (None, None) without TLS."""
    if tls is None or tls.cert_file is None or tls.key_file is None:
        return None, None
    cert, key = tls.cert_file, tls.key_file
    try:
        pair = (Path(key).read_bytes(), Path(cert).read_bytes())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {cert} and key {key}: {exc}") from None
    return pair, context


def _listen_problem(endpoint: str) -> str | None:
    """Why nothing could listen on `endpoint` now ("port 4317 is in use ..."), or None."""
    host, port = _split_endpoint(endpoint)
    if port == 0:
        return None
    try:
        family, kind, _, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return f"port {port} is in use (by another collector?)"
        return exc.strerror or str(exc)
    return None


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"endpoint {endpoint!r} must be host:port, e.g. 127.0.0.1:4318")
    return host.strip("[]"), int(port)
