"""`spanhouse prices` against a running collector that owns its embedded store."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from helpers import CollectorProcess, run_cli


def spanhouse(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, check=check)


def send_chat(collector: CollectorProcess, span_name: str, model: str) -> None:
    """One chat span over OTLP/HTTP through the real OTel SDK exporter."""
    provider = TracerProvider(resource=Resource.create({"service.name": "prices-e2e"}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces"))
    )
    with provider.get_tracer("e2e").start_as_current_span(span_name) as span:
        span.set_attributes(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": model,
                "gen_ai.usage.input_tokens": 1_000_000,
                "gen_ai.usage.output_tokens": 100_000,
            }
        )
    provider.shutdown()


def costs(collector: CollectorProcess) -> dict[str, tuple]:
    rows = collector.sql(
        "SELECT SpanName, CostUSD, PriceId FROM agent_steps WHERE ServiceName = 'prices-e2e'"
    )
    return {r["SpanName"]: (r["CostUSD"], r["PriceId"]) for r in rows}


def test_unknown_model_is_reported_then_priced_and_repriced(
    collector: CollectorProcess, tmp_path: Path
) -> None:
    data_dir = str(collector.data_dir)
    out = spanhouse("prices", "sync", "--data-dir", data_dir)  # through the collector's API
    assert "synced" in out.stderr and "catalogue price rows" in out.stderr
    send_chat(collector, "before", "acme-ft-v3")
    send_chat(collector, "known", "gpt-4o-mini")
    got = costs(collector)
    assert got["before"] == (None, "")
    assert got["known"][1] == "genai-prices:openai/gpt-4o-mini"

    unpriced = json.loads(spanhouse("prices", "unpriced", "--data-dir", data_dir, "-f", "json").stdout)
    assert [(u["model"], u["calls"]) for u in unpriced] == [("acme-ft-v3", 1)]

    out = spanhouse("prices", "set", "acme-ft-v3", "--input", "2", "--output", "8", "--data-dir", data_dir)
    assert "user:*/acme-ft-v3" in out.stderr
    send_chat(collector, "after", "acme-ft-v3")  # the collector's price book was refreshed
    assert costs(collector)["after"] == (2.0 + 0.8, "user:*/acme-ft-v3")
    assert costs(collector)["before"] == (None, "")

    out = spanhouse("prices", "reprice", "--data-dir", data_dir)
    assert "re-priced 3 model call(s); 0 without a known price" in out.stderr
    got = costs(collector)
    assert got["before"] == (2.0 + 0.8, "user:*/acme-ft-v3")
    assert got["known"][1] == "genai-prices:openai/gpt-4o-mini"
    assert json.loads(spanhouse("prices", "unpriced", "--data-dir", data_dir, "-f", "json").stdout) == []

    listed = json.loads(spanhouse("prices", "list", "acme", "--data-dir", data_dir, "-f", "json").stdout)
    assert [(r["price_id"], r["input_mtok"], r["output_mtok"]) for r in listed] == [
        ("user:*/acme-ft-v3", 2.0, 8.0)
    ]


def test_price_files_are_validated_with_a_clear_error(collector: CollectorProcess, tmp_path: Path) -> None:
    bad = tmp_path / "prices.yaml"
    bad.write_text("prices:\n  - model: acme\n    input: 1\n")
    result = spanhouse("prices", "load", str(bad), "--data-dir", str(collector.data_dir), check=False)
    assert result.returncode == 2
    assert "prices[0].output is required" in result.stderr

    good = tmp_path / "good.yaml"
    good.write_text(
        "prices:\n  - model: acme-embed\n    input: 0.1\n    output: 0\n    effective_from: 2026-01-01\n"
    )
    out = spanhouse("prices", "load", str(good), "--data-dir", str(collector.data_dir))
    assert "set 1 user price(s)" in out.stderr
    listed = json.loads(
        spanhouse("prices", "list", "acme-embed", "--data-dir", str(collector.data_dir), "-f", "json").stdout
    )
    assert listed[0]["price_id"] == "user:*/acme-embed@2026-01-01T00:00:00"
