"""Assembles and runs a collector: store, exporter, pipeline, OTLP receivers and the HTTP API.

In embedded mode the collector owns its chDB data directory and writes `collector.json`
there, so the CLI can find it and go through its API instead of opening the store.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
from pathlib import Path

from spanhouse.collector.alerts.service import AlertService, alert_job, instance_id
from spanhouse.collector.api.access import ReadAccess
from spanhouse.collector.api.alerts import alert_routes
from spanhouse.collector.api.budgets import budget_routes
from spanhouse.collector.api.prices import price_routes
from spanhouse.collector.api.routes import api_routes
from spanhouse.collector.auth import ApiKeys
from spanhouse.collector.budgets import sync_config_budgets
from spanhouse.collector.config import CollectorConfig, TlsServerConfig
from spanhouse.collector.errors import ConfigError, StoreError, StoreUnavailable
from spanhouse.collector.experiments.schedule import evaluation_job
from spanhouse.collector.exporters.clickhouse import ClickHouseExporter
from spanhouse.collector.exporters.otlp_forward import OtlpForwarder
from spanhouse.collector.httpserver import Handler, HttpServer
from spanhouse.collector.jobs import Job, Scheduler
from spanhouse.collector.jobs.attribution import AttributionSettings, attribution_job
from spanhouse.collector.memory import MemoryLimiter
from spanhouse.collector.pipeline import MAX_BUILDING, TracePipeline
from spanhouse.collector.prices.refresher import PriceRefresher
from spanhouse.collector.processors.experiment_attributes import ExperimentAttributes
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.limits import SpanLimits
from spanhouse.collector.processors.pricing import ModelPricer
from spanhouse.collector.processors.request_filters import build_request_processors
from spanhouse.collector.queue import PersistentQueue, WriteAheadLog
from spanhouse.collector.readpath import ReadPath
from spanhouse.collector.receivers.otlp_grpc import OtlpGrpcReceiver
from spanhouse.collector.receivers.otlp_http import OtlpHttpTracesHandler
from spanhouse.collector.store import Store, open_store
from spanhouse.collector.store.reconnecting import ReconnectingStore
from spanhouse.collector.telemetry import Metrics
from spanhouse.collector.workers import WorkerPool, WorkerSetup

logger = logging.getLogger(__name__)

STATE_FILE = "collector.json"


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
        store = self.store = self._open_store()
        pipeline = self._start_pipeline(store)
        self.alerts = self._start_alerts(store)
        self.scheduler = Scheduler(store, self.metrics)
        for job in self.jobs():
            self.scheduler.add(job)
        self.scheduler.start()
        self._start_receivers(pipeline, store)
        local_dir = self.config.clickhouse.local_dir
        local_dir.mkdir(parents=True, exist_ok=True)
        self._state_path = local_dir / STATE_FILE
        self._state_path.write_text(json.dumps(self.state()))
        logger.info(
            "OTLP/gRPC on %s, OTLP/HTTP and API on %s (%s, %s)",
            self.grpc_endpoint,
            self.http_url,
            "TLS" if self.config.receiver.tls else "no TLS",
            f"API keys for {len(self.api_keys.tenants)} tenant(s)"
            if self.api_keys.enabled
            else "no API keys",
        )

    def _open_store(self) -> Store:
        """A server may be down at start (spans then wait in the WAL); the embedded store may not."""
        clickhouse = self.config.clickhouse
        if clickhouse.url:
            store = ReconnectingStore(clickhouse.url)
            try:
                store.migrate()
            except StoreUnavailable as exc:
                logger.warning("%s; accepting spans into the WAL and retrying", exc)
            return store
        embedded = open_store(data_dir=clickhouse.local_dir)
        applied = embedded.migrate()
        if applied:
            logger.info("applied %d migration(s) to %s", len(applied), embedded.description)
        return embedded

    def _start_pipeline(self, store: Store) -> TracePipeline:
        """WAL, queue, prices, forwarders, the ClickHouse exporter and the pipeline feeding them."""
        config = self.config
        max_bytes = config.clickhouse.wal.max_bytes
        self.wal = WriteAheadLog(
            config.clickhouse.wal_dir, max_bytes=max_bytes, segment_bytes=min(max_bytes // 4, 16 << 20)
        )
        queue = PersistentQueue(self.wal)
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
        self.exporter = ClickHouseExporter(store, self.metrics, queue, pipeline.rebuild)
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
        jobs = [evaluation_job(self.config.experiments_interval, self.alerts)]
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
        return {"pid": os.getpid(), "grpc_endpoint": self.grpc_endpoint, "http_url": self.http_url}

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
            self._state_path.unlink(missing_ok=True)
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


def running_collector(data_dir: Path) -> dict | None:
    """The state of the live collector that owns `data_dir`, or None."""
    path = Path(data_dir) / STATE_FILE
    try:
        state = json.loads(path.read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state


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


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"endpoint {endpoint!r} must be host:port, e.g. 127.0.0.1:4318")
    return host.strip("[]"), int(port)
