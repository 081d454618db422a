"""Assembles and runs a collector: store, exporter, pipeline, OTLP receivers and the HTTP API.

In embedded mode the collector owns its chDB data directory and writes `collector.json`
there, so the CLI can find it and go through its API instead of opening the store.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from spanhouse.collector.api.prices import price_routes
from spanhouse.collector.api.routes import api_routes
from spanhouse.collector.exporters.clickhouse import ClickHouseExporter
from spanhouse.collector.httpserver import HttpServer
from spanhouse.collector.pipeline import TracePipeline
from spanhouse.collector.prices.refresher import PriceRefresher
from spanhouse.collector.processors.genai import GenAIProcessor
from spanhouse.collector.processors.pricing import ModelPricer
from spanhouse.collector.receivers.otlp_decode import DEFAULT_MAX_REQUEST_BYTES
from spanhouse.collector.receivers.otlp_grpc import OtlpGrpcReceiver
from spanhouse.collector.receivers.otlp_http import OtlpHttpTracesHandler
from spanhouse.collector.store import Store, open_store
from spanhouse.collector.telemetry import Metrics

logger = logging.getLogger(__name__)

STATE_FILE = "collector.json"


@dataclass(frozen=True)
class CollectorSettings:
    data_dir: Path | None = None
    clickhouse_url: str | None = None
    grpc_endpoint: str = "127.0.0.1:4317"
    http_endpoint: str = "127.0.0.1:4318"
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES


class Collector:
    def __init__(self, settings: CollectorSettings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.store: Store | None = None
        self.exporter: ClickHouseExporter | None = None
        self.grpc: OtlpGrpcReceiver | None = None
        self.http: HttpServer | None = None
        self.prices: PriceRefresher | None = None
        self._state_path: Path | None = None

    def start(self) -> None:
        s = self.settings
        self.store = open_store(data_dir=None if s.clickhouse_url else s.data_dir, url=s.clickhouse_url)
        applied = self.store.migrate()
        if applied:
            logger.info("applied %d migration(s) to %s", len(applied), self.store.description)
        self.exporter = ClickHouseExporter(self.store, self.metrics)
        self.exporter.start()
        pricer = ModelPricer()
        self.prices = PriceRefresher(self.store, pricer)
        self.prices.start()
        pipeline = TracePipeline(self.exporter, self.metrics, GenAIProcessor(pricer))
        self.grpc = OtlpGrpcReceiver(pipeline, s.grpc_endpoint, max_request_bytes=s.max_request_bytes)
        host, port = _split_endpoint(s.http_endpoint)
        routes = {
            ("POST", "/v1/traces"): OtlpHttpTracesHandler(pipeline, max_request_bytes=s.max_request_bytes)
        }
        routes.update(api_routes(self.store, self.metrics))
        routes.update(price_routes(self.store, self.prices))
        self.http = HttpServer(host, port, routes, max_body_bytes=s.max_request_bytes)
        self.grpc.start()
        self.http.start()
        if s.data_dir is not None and s.clickhouse_url is None:
            self._state_path = Path(s.data_dir) / STATE_FILE
            self._state_path.write_text(json.dumps(self.state()))
        logger.info("OTLP/gRPC on %s, OTLP/HTTP and API on %s", self.grpc_endpoint, self.http_url)

    @property
    def grpc_endpoint(self) -> str:
        assert self.grpc is not None
        return f"{self.grpc.host}:{self.grpc.port}"

    @property
    def http_url(self) -> str:
        assert self.http is not None
        host, port = self.http.address
        return f"http://{host}:{port}"

    def state(self) -> dict:
        return {"pid": os.getpid(), "grpc_endpoint": self.grpc_endpoint, "http_url": self.http_url}

    def shutdown(self) -> None:
        """Stop receiving, store what was accepted, close the store. Idempotent."""
        if self.grpc is not None:
            self.grpc.shutdown()
            self.grpc = None
        if self.http is not None:
            self.http.shutdown()
            self.http = None
        if self.prices is not None:
            self.prices.shutdown()
            self.prices = None
        if self.exporter is not None:
            self.exporter.shutdown()
            self.exporter = None
        if self._state_path is not None:
            self._state_path.unlink(missing_ok=True)
            self._state_path = None
        if self.store is not None:
            self.store.close()
            self.store = None


def running_collector(data_dir: Path) -> dict | None:
    """The state of the live collector that owns `data_dir`, or None."""
    path = Path(data_dir) / STATE_FILE
    try:
        state = json.loads(path.read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"endpoint {endpoint!r} must be host:port, e.g. 127.0.0.1:4318")
    return host.strip("[]"), int(port)
