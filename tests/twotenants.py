"""A real collector holding two tenants' spans and an operator key, for attacks on the read path.

Tenant b's spans carry secrets (service name, span name, an attribute value, trace and span ids)
that must never appear in any reply to tenant a, whatever a's query does. After each attack the
checks here show that nothing was created (no database, table or file), that ingest still works
and that tenant b's own queries still answer.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from helpers import CollectorProcess
from loadgen import post

KEY_A = "key-a-" + "0123456789abcdef" * 2
KEY_B = "key-b-" + "fedcba9876543210" * 2
KEY_OPERATOR = "key-op-" + "0011223344556677" * 2
WAIT_S = 30.0


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def document(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str:
        return self.document.get("error", "") if self.status != 200 else ""

    def rows(self) -> list[dict[str, Any]]:
        document = self.document
        return [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]


@dataclass
class Tenant:
    name: str
    key: str
    service: str
    secrets: list[str] = field(default_factory=list)  # strings of this tenant's data


class TwoTenants:
    """A keyed collector (tenant-a, tenant-b, operator) run in `root`, with b's secrets stored."""

    def __init__(self, root: Path, *extra_args: str) -> None:
        self.root = root
        self.cwd = root / "cwd"  # the collector's working directory: relative file names land here
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.outside = root / "outside"  # absolute paths an attack may try to write
        self.outside.mkdir(exist_ok=True)
        keys = root / "keys.yaml"
        keys.write_text(f"api_keys:\n  {KEY_A}: tenant-a\n  {KEY_B}: tenant-b\n  {KEY_OPERATOR}: '*'\n")
        self.collector = CollectorProcess(root / "data", "--api-keys", str(keys), *extra_args, cwd=self.cwd)
        tag = uuid.uuid4().hex[:10]
        self.a = Tenant("tenant-a", KEY_A, f"svc-a-{tag}")
        self.b = Tenant("tenant-b", KEY_B, f"svc-b-{tag}")
        self._sent = 0
        for tenant in (self.a, self.b):
            tenant.secrets += self.send(tenant, secret=f"secret-{tenant.name}-{tag}")
        for tenant in (self.a, self.b):
            self.wait_stored(tenant)
            assert self.sql("SELECT 1", tenant.key).status == 200  # its views are made on its first query
        self.tables = self.table_names()  # after both tenants' first queries made their views

    def stop(self) -> None:
        self.collector.stop()

    # --- requests ---------------------------------------------------------------------

    def sql(self, query: str, key: str | None, parameters: Any = None, **body: Any) -> Reply:
        document = {"query": query, "parameters": {} if parameters is None else parameters, **body}
        return self.request("POST", "/v1/sql", key, json.dumps(document).encode())

    def request(self, method: str, path: str, key: str | None, body: bytes | None = None) -> Reply:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["x-api-key"] = key
        request = urllib.request.Request(f"{self.collector.http_url}{path}", body, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return Reply(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read(), dict(exc.headers))

    def send(self, tenant: Tenant, *, secret: str) -> list[str]:
        """One OTLP/HTTP request of `tenant` with `secret` in it; returns the strings it stored."""
        self._sent += 1
        trace_id, span_id = os.urandom(16), os.urandom(8)
        request = ExportTraceServiceRequest()
        resource = request.resource_spans.add()
        resource.resource.attributes.append(
            KeyValue(key="service.name", value=AnyValue(string_value=tenant.service))
        )
        span = resource.scope_spans.add().spans.add()
        span.trace_id, span.span_id = trace_id, span_id
        span.name = f"chat {secret}"
        span.kind = 3
        span.start_time_unix_nano = 1_764_000_000_000_000_000 + self._sent
        span.end_time_unix_nano = span.start_time_unix_nano + 1_000_000
        for name, value in (
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.request.model", "gpt-4o-mini"),
            ("gen_ai.agent.name", f"agent-{secret}"),
            ("app.secret", secret),
        ):
            span.attributes.append(KeyValue(key=name, value=AnyValue(string_value=value)))
        status, _, body = post(
            f"{self.collector.http_url}/v1/traces",
            request.SerializeToString(),
            {"Content-Type": "application/x-protobuf", "x-api-key": tenant.key},
        )
        assert status == 200, body
        return [secret, trace_id.hex(), span_id.hex(), tenant.service]

    def spans_of(self, tenant: Tenant) -> int:
        """Spans of `tenant`'s service stored, counted with the operator key (it has its own slots)."""
        reply = self.sql(
            "SELECT count() AS n FROM otel_traces WHERE Tenant = {t:String} AND ServiceName = {s:String}",
            KEY_OPERATOR,
            {"t": tenant.name, "s": tenant.service},
        )
        assert reply.status == 200, reply.body
        return reply.rows()[0]["n"] if reply.document["rows"] else 0

    def wait_stored(self, tenant: Tenant, at_least: int = 1) -> int:
        deadline = time.monotonic() + WAIT_S
        while True:
            count = self.spans_of(tenant)
            if count >= at_least or time.monotonic() > deadline:
                assert count >= at_least, f"{tenant.name} has {count} span(s) stored, expected {at_least}"
                return count
            time.sleep(0.05)

    def table_names(self) -> set[tuple[str, str]]:
        reply = self.sql("SELECT database, name FROM system.tables", KEY_OPERATOR)
        assert reply.status == 200, reply.body
        return {(row["database"], row["name"]) for row in reply.rows()}

    def files(self) -> set[str]:
        return {str(p.relative_to(self.root)) for d in (self.cwd, self.outside) for p in d.rglob("*")}

    # --- what every attack must leave intact --------------------------------------------

    def assert_no_secret_of_b(self, reply: Reply) -> None:
        for secret in self.b.secrets:
            assert secret.encode() not in reply.body, f"tenant-b's {secret!r} is in a reply to tenant-a"

    def assert_nothing_created(self, files_before: set[str]) -> None:
        assert self.table_names() == self.tables, "a database or table was created or dropped"
        assert self.files() == files_before, "a file was written"

    def assert_still_working(self) -> None:
        """Ingest of both tenants still lands, b's queries answer, /healthz is 200."""
        for tenant in (self.a, self.b):
            before = self.spans_of(tenant)
            tenant.secrets += self.send(tenant, secret=f"after-{tenant.name}-{uuid.uuid4().hex[:6]}")
            self.wait_stored(tenant, before + 1)
        reply = self.sql("SELECT DISTINCT Tenant FROM otel_traces", KEY_B)
        assert reply.status == 200 and reply.rows() == [{"Tenant": "tenant-b"}], reply.body
        health = self.request("GET", "/healthz", None)
        assert health.status == 200, health.body
