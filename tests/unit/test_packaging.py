"""The agent-side install stays light, and the deploy files agree with the code they ship."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("chdb", "clickhouse-connect", "grpcio", "typer", "rich", "genai-prices")


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_base_install_has_no_collector_dependencies() -> None:
    requirements = requires("spanhouse") or []
    base = _names([r for r in requirements if "extra ==" not in r])
    collector = _names([r for r in requirements if 'extra == "collector"' in r])
    assert base.isdisjoint(HEAVY), base & set(HEAVY)
    assert {"chdb", "clickhouse-connect", "grpcio"} <= collector


def test_importing_the_instrumentation_loads_no_collector_code() -> None:
    probe = (
        "import sys, spanhouse.instrumentation as i\n"
        "i.agent('a'); i.step('s'); i.tool('t')\n"
        "bad = [m for m in ('chdb', 'clickhouse_connect', 'grpc', 'spanhouse.collector') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_dockerfile_copies_every_source_folder_and_serves_the_otlp_ports() -> None:
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    setup = (ROOT / "setup.py").read_text()
    for folder in re.findall(r'"spanhouse\.\w+": "(\w+)', setup):
        assert f"COPY {folder} ./{folder}" in dockerfile
    assert "EXPOSE 4317 4318" in dockerfile
    assert '"0.0.0.0:4317"' in dockerfile and '"0.0.0.0:4318"' in dockerfile
