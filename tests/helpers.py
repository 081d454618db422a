"""Shared test helpers: a real collector process on free ports, and span builders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT_S = 60


class CollectorProcess:
    """`spanhouse collector` as a user runs it, on port 0, owning `data_dir`."""

    def __init__(self, data_dir: Path, *extra_args: str) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"{data_dir.name}-collector.log"
        (data_dir / "collector.json").unlink(missing_ok=True)  # left behind by a killed collector
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spanhouse.collector",
                "collector",
                "--data-dir",
                str(data_dir),
                "--grpc-endpoint",
                "127.0.0.1:0",
                "--http-endpoint",
                "127.0.0.1:0",
                *extra_args,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.state = self._wait_ready()
        self.http_url: str = self.state["http_url"]
        self.grpc_endpoint: str = self.state["grpc_endpoint"]

    def _wait_ready(self) -> dict[str, Any]:
        state_file = self.data_dir / "collector.json"
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"collector exited with {self.process.returncode}: {self.log()}")
            if state_file.exists():
                try:
                    return json.loads(state_file.read_text())
                except ValueError:
                    pass  # being written
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"collector did not start in {STARTUP_TIMEOUT_S}s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def sql(self, query: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body = json.dumps({"query": query, "parameters": parameters or {}}).encode()
        request = urllib.request.Request(
            f"{self.http_url}/v1/sql", body, {"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            document = json.loads(response.read())
        return [dict(zip(document["columns"], row, strict=True)) for row in document["rows"]]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode
