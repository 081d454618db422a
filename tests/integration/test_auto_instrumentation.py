"""configure(auto_instrument=True): the real openai and anthropic clients, talking to a fake provider
on 127.0.0.1, traced by the OTel GenAI instrumentors, exported to the real collector, read from chDB.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from fake_providers import (
    ANTHROPIC_CACHE_READ,
    ANTHROPIC_CACHE_WRITE,
    ANTHROPIC_INPUT,
    ANTHROPIC_OUTPUT,
    OPENAI_CACHED,
    OPENAI_INPUT,
    OPENAI_OUTPUT,
    OPENAI_REASONING,
    FakeProviderServer,
)
from helpers import CollectorProcess
from spanhouse.instrumentation import (
    _auto,
    _content,
    agent,
    configure,
    force_flush,
    instrumented_libraries,
    shutdown,
    step,
)

SERVICE = "auto-instrumented"
MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
    }
]
ANTHROPIC_TOOLS = [{"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}]

OPENAI_BUCKETS = {
    "InputTokens": OPENAI_INPUT - OPENAI_CACHED,
    "CachedInputTokens": OPENAI_CACHED,
    "CacheWriteTokens": 0,
    "OutputTokens": OPENAI_OUTPUT - OPENAI_REASONING,
    "ReasoningTokens": OPENAI_REASONING,
}
ANTHROPIC_BUCKETS = {
    "InputTokens": ANTHROPIC_INPUT,
    "CachedInputTokens": ANTHROPIC_CACHE_READ,
    "CacheWriteTokens": ANTHROPIC_CACHE_WRITE,
    "OutputTokens": ANTHROPIC_OUTPUT,
    "ReasoningTokens": 0,
}


def _span_id(span: Any) -> str:
    return format(span.get_span_context().span_id, "016x")


def _drive_clients(base_url: str) -> dict[str, str]:
    """One call per case, each inside its own step; returns step name -> span id, plus the run id."""
    oai = openai.OpenAI(base_url=base_url + "/v1", api_key="test", max_retries=0, timeout=5)
    ant = anthropic.Anthropic(base_url=base_url, api_key="test", max_retries=0, timeout=5)
    ids: dict[str, str] = {}

    def case(name: str) -> Any:
        scope = step(name)
        return scope

    with agent("support-bot") as root:
        ids["run"] = _span_id(root)
        with case("openai.chat") as s:
            ids["openai.chat"] = _span_id(s)
            oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        with case("openai.tool_call") as s:
            ids["openai.tool_call"] = _span_id(s)
            oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)
        with case("openai.stream") as s:
            ids["openai.stream"] = _span_id(s)
            chunks = oai.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
            )
            assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello stream."
        with case("openai.responses") as s:
            ids["openai.responses"] = _span_id(s)
            oai.responses.create(model="gpt-4o-mini", input="hi")
        with case("openai.async") as s:
            ids["openai.async"] = _span_id(s)

            async def call() -> None:
                client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key="test", max_retries=0)
                await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
                await client.close()

            asyncio.run(call())
        with case("openai.error") as s:
            ids["openai.error"] = _span_id(s)
            with pytest.raises(openai.InternalServerError):
                oai.chat.completions.create(model="error-500", messages=MESSAGES)
        with case("openai.timeout") as s:
            ids["openai.timeout"] = _span_id(s)
            with pytest.raises(openai.APITimeoutError):
                oai.chat.completions.create(model="slow", messages=MESSAGES, timeout=0.3)
        with case("anthropic.create") as s:
            ids["anthropic.create"] = _span_id(s)
            ant.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES)
        with case("anthropic.stream") as s:
            ids["anthropic.stream"] = _span_id(s)
            with ant.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES) as stream:
                assert "".join(stream.text_stream) == "Hi."
        with case("anthropic.async") as s:
            ids["anthropic.async"] = _span_id(s)

            async def call_anthropic() -> None:
                client = anthropic.AsyncAnthropic(base_url=base_url, api_key="test", max_retries=0)
                await client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES)
                await client.close()

            asyncio.run(call_anthropic())
        with case("anthropic.tool_call") as s:
            ids["anthropic.tool_call"] = _span_id(s)
            ant.messages.create(
                model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES, tools=ANTHROPIC_TOOLS
            )
        with case("anthropic.error") as s:
            ids["anthropic.error"] = _span_id(s)
            with pytest.raises(anthropic.InternalServerError):
                ant.messages.create(model="error-500", max_tokens=64, messages=MESSAGES)
    oai.close()
    ant.close()
    return ids


@pytest.fixture(scope="module")
def traced(collector: CollectorProcess) -> Iterator[tuple[dict[str, str], dict[str, list[dict]]]]:
    """Drive every case once, then read the model-call rows under each case's step."""
    with pytest.MonkeyPatch.context() as env, FakeProviderServer() as fake:
        for var in (_auto.ANTHROPIC_NATIVE_TRACING_ENV, _content.CAPTURE_ENV):
            env.setenv(var, "")  # so what configure() writes is undone afterwards
            env.delenv(var)
        configure(service_name=SERVICE, endpoint=collector.http_url, set_global=False, auto_instrument=True)
        try:
            assert instrumented_libraries() == ["openai", "anthropic"]
            # the anthropic SDK's own spans would double the instrumentor's usage
            assert os.environ[_auto.ANTHROPIC_NATIVE_TRACING_ENV] == "false"
            ids = _drive_clients(fake.url)
            assert force_flush(timeout_millis=20000)
        finally:
            shutdown()
    assert instrumented_libraries() == []
    rows = collector.sql(
        "SELECT * EXCEPT (Attributes), toString(Attributes) AS Attrs FROM agent_steps"
        " WHERE ServiceName = {service:String} AND TraceId = (SELECT any(TraceId) FROM agent_steps"
        " WHERE SpanId = {run:String}) ORDER BY Timestamp",
        {"service": SERVICE, "run": ids["run"]},
    )
    by_parent: dict[str, list[dict]] = {}
    for row in rows:
        by_parent.setdefault(row["ParentSpanId"], []).append(row)
    yield ids, {name: by_parent.get(span_id, []) for name, span_id in ids.items()}


def _model_call(traced: tuple[dict[str, str], dict[str, list[dict]]], case: str) -> dict:
    _, rows = traced
    (row,) = rows[case]  # exactly one span under the step: no double counting
    assert row["IsModelCall"] is True
    return row


def _buckets(row: dict) -> dict[str, int]:
    return {key: row[key] for key in OPENAI_BUCKETS}


@pytest.mark.parametrize("case", ["openai.chat", "openai.tool_call", "openai.stream", "openai.async"])
def test_openai_chat_usage_lands_in_non_overlapping_buckets(traced: Any, case: str) -> None:
    row = _model_call(traced, case)
    assert _buckets(row) == OPENAI_BUCKETS
    assert (row["Provider"], row["RequestModel"], row["ResponseModel"]) == (
        "openai",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    )
    assert (row["StepKind"], row["Operation"], row["StatusCode"]) == ("llm", "chat", "Unset")
    assert row["CostUSD"] is not None and row["CostUSD"] > 0


def test_openai_responses_api_usage(traced: Any) -> None:
    row = _model_call(traced, "openai.responses")
    assert _buckets(row) == OPENAI_BUCKETS
    assert row["RequestModel"] == "gpt-4o-mini"


def test_finish_reasons_and_tool_calls(traced: Any) -> None:
    assert _model_call(traced, "openai.chat")["FinishReason"] == "stop"
    # Stored as each instrumentor reports it: OpenAI's own word, Anthropic's mapped to the conventions'.
    assert _model_call(traced, "openai.tool_call")["FinishReason"] == "tool_calls"
    assert _model_call(traced, "anthropic.create")["FinishReason"] == "stop"
    assert _model_call(traced, "anthropic.tool_call")["FinishReason"] == "tool_call"


@pytest.mark.parametrize(
    "case", ["anthropic.create", "anthropic.stream", "anthropic.async", "anthropic.tool_call"]
)
def test_anthropic_usage_counts_cache_once(traced: Any, case: str) -> None:
    # Anthropic's own input_tokens excludes the cache; the stored buckets must still add up
    # to what was billed: no overlap, nothing counted twice (the SDK's own span is off).
    row = _model_call(traced, case)
    assert _buckets(row) == ANTHROPIC_BUCKETS
    assert (row["Provider"], row["RequestModel"]) == ("anthropic", "claude-haiku-4-5")


@pytest.mark.parametrize(
    ("case", "error_type"),
    [
        ("openai.error", "generation_error"),
        ("openai.timeout", "timeout_error"),
        ("anthropic.error", "generation_error"),
    ],
)
def test_failed_calls_are_errors_with_a_class(traced: Any, case: str, error_type: str) -> None:
    row = _model_call(traced, case)
    assert row["StatusCode"] == "Error"
    assert row["ErrorType"] == error_type
    assert row["InputTokens"] == row["OutputTokens"] == 0


def test_every_instrumentor_span_is_attributed_to_the_run(traced: Any) -> None:
    ids, rows = traced
    cases = [name for name in ids if name != "run"]
    for name in cases:
        (row,) = rows[name]
        assert (row["RunId"], row["AgentName"]) == (ids["run"], "support-bot"), name
    # and the steps themselves hang under the agent
    assert {row["StepName"] for row in rows["run"]} == set(cases)


def test_content_is_not_captured_by_default(traced: Any) -> None:
    _, rows = traced
    for case_rows in rows.values():
        for row in case_rows:
            assert "What is the weather" not in row["Attrs"]
            assert "gen_ai.input.messages" not in row["Attrs"]


def test_capture_content_records_messages_cut_to_size(collector: CollectorProcess) -> None:
    long_question = "Describe Paris. " * 40
    with pytest.MonkeyPatch.context() as env, FakeProviderServer() as fake:
        for var in (_content.CAPTURE_ENV, _content.MAX_CHARS_ENV):
            env.setenv(var, "")  # so the value configure() writes is undone afterwards
            env.delenv(var)
        configure(
            service_name="content-capture",
            endpoint=collector.http_url,
            set_global=False,
            auto_instrument=["openai"],
            capture_content=True,
            content_max_chars=120,
        )
        try:
            assert instrumented_libraries() == ["openai"]
            client = openai.OpenAI(base_url=fake.url + "/v1", api_key="test", max_retries=0)
            with agent("talker"):
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": long_question}]
                )
            client.close()
            assert force_flush(timeout_millis=20000)
        finally:
            shutdown()
            _content.set_options(None, None)
    [row] = collector.sql(
        "SELECT SpanAttributes['gen_ai.input.messages'] AS input, SpanAttributes['gen_ai.output.messages'] AS output"
        " FROM otel_traces WHERE ServiceName = 'content-capture' AND SpanName = 'chat gpt-4o-mini'"
    )
    assert row["input"].startswith('[{"role":"user","parts":[{"content":"Describe Paris.')
    assert row["input"].endswith("chars]") and "...[truncated " in row["input"]
    assert len(row["input"]) < 160
    assert "Hello from the fake." in row["output"]
