"""Zero-code: `opentelemetry-instrument python app.py` exports to spanhouse with no configure() in the app.

The app uses the real openai and anthropic clients (from a thread pool and a plain thread)
against a fake provider on 127.0.0.1; the spanhouse distro and configurator (entry points) and
the GenAI instrumentors (their own entry points) are loaded by opentelemetry-instrument,
configured only through OTEL_* variables.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fake_providers import ANTHROPIC_CACHE_READ, ANTHROPIC_INPUT, OPENAI_CACHED, FakeProviderServer
from helpers import CollectorProcess

SERVICE = "zero-code-app"

APP = textwrap.dedent(
    """
    import os, sys, threading
    from concurrent.futures import ThreadPoolExecutor
    import anthropic, openai
    from spanhouse.instrumentation import agent

    url = os.environ["FAKE_PROVIDER_URL"]
    messages = [{"role": "user", "content": "hi"}]

    def ask_openai():
        openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=messages
        )

    def ask_anthropic():
        anthropic.Anthropic(base_url=url, api_key="k", max_retries=0).messages.create(
            model="claude-haiku-4-5", max_tokens=16, messages=messages
        )

    @agent("zero-code-agent")
    def run():
        # In a pool and in a plain thread, without contextvars.copy_context(): the spanhouse
        # instrumentor entry point carries the run into both.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(ask_openai).result()
        worker = threading.Thread(target=ask_anthropic)
        worker.start()
        worker.join()

    run()
    print("done")
    """
)


def run_instrumented(app_code: str, app_dir: Path, env_extra: dict[str, str]) -> None:
    """Run `opentelemetry-instrument python app.py` against a fresh fake provider."""
    app = app_dir / "app.py"
    app.write_text(app_code)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "ANTHROPIC_")) and key != "PYTHONPATH"
    }
    instrument = Path(sys.executable).parent / "opentelemetry-instrument"
    with FakeProviderServer() as fake:
        env.update(FAKE_PROVIDER_URL=fake.url, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf", **env_extra)
        result = subprocess.run(
            [str(instrument), sys.executable, str(app)],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"


@pytest.fixture(scope="module")
def app_rows(collector: CollectorProcess, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    run_instrumented(
        APP,
        tmp_path_factory.mktemp("app"),
        {
            # another distro (opentelemetry-distro) is installed too: name ours
            "OTEL_PYTHON_DISTRO": "spanhouse",
            "OTEL_PYTHON_CONFIGURATOR": "spanhouse",
            "OTEL_SERVICE_NAME": SERVICE,
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_url,
        },
    )
    return collector.sql(
        "SELECT SpanName, StepKind, IsModelCall, Provider, RunId, AgentName, SpanId, ParentSpanId,"
        " InputTokens, CachedInputTokens FROM agent_steps WHERE ServiceName = {service:String}",
        {"service": SERVICE},
    )


def test_instrument_command_exports_agent_and_model_calls(app_rows: list[dict]) -> None:
    (agent_row,) = [r for r in app_rows if r["StepKind"] == "agent"]
    model_rows = sorted((r for r in app_rows if r["IsModelCall"]), key=lambda r: r["Provider"])
    assert [r["Provider"] for r in model_rows] == ["anthropic", "openai"]
    for row in model_rows:
        assert row["ParentSpanId"] == agent_row["SpanId"]
        assert (row["RunId"], row["AgentName"]) == (agent_row["SpanId"], "zero-code-agent")
    anthropic_row, openai_row = model_rows
    assert (anthropic_row["InputTokens"], anthropic_row["CachedInputTokens"]) == (
        ANTHROPIC_INPUT,
        ANTHROPIC_CACHE_READ,
    )
    assert openai_row["CachedInputTokens"] == OPENAI_CACHED


def test_anthropic_sdk_spans_are_not_counted_twice(app_rows: list[dict], collector: CollectorProcess) -> None:
    # The anthropic SDK traces itself too; the distro turns that off while the instrumentor runs.
    assert len(app_rows) == 3
    scopes = collector.sql(
        "SELECT DISTINCT ScopeName FROM otel_traces WHERE ServiceName = {service:String} ORDER BY ScopeName",
        {"service": SERVICE},
    )
    assert [s["ScopeName"] for s in scopes] == [
        "opentelemetry.instrumentation.genai.anthropic",
        "opentelemetry.instrumentation.genai.openai",
        "spanhouse.instrumentation",
    ]


def test_otel_resource_variables_are_honoured(app_rows: list[dict], collector: CollectorProcess) -> None:
    assert app_rows
    rows = collector.sql(
        "SELECT DISTINCT ResourceAttributes['deployment.environment'] AS env FROM otel_traces"
        " WHERE ServiceName = {service:String}",
        {"service": SERVICE},
    )
    assert rows == [{"env": "test"}]


def test_runs_are_attributed_under_the_stock_opentelemetry_distro_too(
    collector: CollectorProcess, tmp_path: Path
) -> None:
    # opentelemetry-distro builds the provider; the spanhouse instrumentor entry point adds
    # the run-context processor to it (so model spans still carry the run) and keeps the
    # anthropic SDK's own span from doubling the instrumentor's.
    run_instrumented(
        APP,
        tmp_path,
        {
            "OTEL_PYTHON_DISTRO": "distro",
            "OTEL_PYTHON_CONFIGURATOR": "configurator",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_SERVICE_NAME": "stock-distro-app",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_url,
        },
    )
    rows = collector.sql(
        "SELECT StepKind, IsModelCall, Provider, RunId, AgentName, SpanId FROM agent_steps"
        " WHERE ServiceName = 'stock-distro-app' ORDER BY StepKind"
    )
    rows.sort(key=lambda r: (r["StepKind"], r["Provider"]))
    assert [(r["StepKind"], r["Provider"]) for r in rows] == [
        ("agent", ""),
        ("llm", "anthropic"),
        ("llm", "openai"),
    ]
    agent_row, *llm_rows = rows
    for llm_row in llm_rows:
        assert (llm_row["RunId"], llm_row["AgentName"]) == (agent_row["SpanId"], "zero-code-agent")
