"""A fake OpenAI + Anthropic HTTP API on 127.0.0.1, for driving the real client libraries in tests.

The request's model name picks the behaviour, so one server serves every case:
``error-500`` answers 500, ``slow`` answers after ``SLOW_S`` (past the client's timeout), any other
model answers normally; ``"stream": true`` answers server-sent events and a request with tools
answers with a tool call. Usage figures are constants below so tests can assert them exactly.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SLOW_S = 3.0

# OpenAI chat completions / responses: input includes cached, output includes reasoning.
OPENAI_INPUT = 1200
OPENAI_CACHED = 1000
OPENAI_OUTPUT = 300
OPENAI_REASONING = 120
# Anthropic: input_tokens excludes cache reads and writes (the API's own convention).
ANTHROPIC_INPUT = 40
ANTHROPIC_CACHE_READ = 900
ANTHROPIC_CACHE_WRITE = 60
ANTHROPIC_OUTPUT = 250


def _openai_usage() -> dict[str, Any]:
    return {
        "prompt_tokens": OPENAI_INPUT,
        "completion_tokens": OPENAI_OUTPUT,
        "total_tokens": OPENAI_INPUT + OPENAI_OUTPUT,
        "prompt_tokens_details": {"cached_tokens": OPENAI_CACHED},
        "completion_tokens_details": {"reasoning_tokens": OPENAI_REASONING},
    }


def _chat_completion(model: str, tools: bool) -> dict[str, Any]:
    if tools:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        }
        finish = "tool_calls"
    else:
        message, finish = {"role": "assistant", "content": "Hello from the fake."}, "stop"
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model + "-2024-07-18",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _openai_usage(),
    }


def _chat_chunks(model: str) -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000}
    base["model"] = model + "-2024-07-18"
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "Hello "}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "stream."}}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    chunks.append({**base, "choices": [], "usage": _openai_usage()})
    return chunks


def _response(model: str) -> dict[str, Any]:
    return {
        "id": "resp_fake",
        "object": "response",
        "created_at": 1_700_000_000,
        "status": "completed",
        "model": model + "-2024-07-18",
        "output": [
            {
                "type": "message",
                "id": "msg_fake",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hello from responses.", "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": OPENAI_INPUT,
            "input_tokens_details": {"cached_tokens": OPENAI_CACHED},
            "output_tokens": OPENAI_OUTPUT,
            "output_tokens_details": {"reasoning_tokens": OPENAI_REASONING},
            "total_tokens": OPENAI_INPUT + OPENAI_OUTPUT,
        },
    }


def _anthropic_usage(output: int) -> dict[str, Any]:
    return {
        "input_tokens": ANTHROPIC_INPUT,
        "cache_read_input_tokens": ANTHROPIC_CACHE_READ,
        "cache_creation_input_tokens": ANTHROPIC_CACHE_WRITE,
        "output_tokens": output,
    }


def _anthropic_message(model: str, tools: bool) -> dict[str, Any]:
    if tools:
        content: list[dict[str, Any]] = [
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
        ]
        stop = "tool_use"
    else:
        content, stop = [{"type": "text", "text": "Hello from the fake."}], "end_turn"
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": _anthropic_usage(ANTHROPIC_OUTPUT),
    }


def _anthropic_events(model: str) -> list[tuple[str, dict[str, Any]]]:
    start = _anthropic_message(model, tools=False)
    start.update(content=[], stop_reason=None, usage=_anthropic_usage(1))
    return [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi."}},
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": ANTHROPIC_OUTPUT},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


class _Handler(BaseHTTPRequestHandler):
    server: FakeProviderServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.record(self.path, dict(self.headers), body)
        model = str(body.get("model", ""))
        if model == "slow":
            self.server.stopping.wait(SLOW_S)
            self._json(200, {})
            return
        if model == "error-500":
            if self.path.endswith("/messages"):
                self._json(500, {"type": "error", "error": {"type": "api_error", "message": "fake outage"}})
            else:
                self._json(500, {"error": {"message": "fake outage", "type": "server_error"}})
            return
        stream, tools = bool(body.get("stream")), bool(body.get("tools"))
        if self.path.endswith("/chat/completions"):
            if stream:
                self._sse([(None, chunk) for chunk in _chat_chunks(model)], done=True)
            else:
                self._json(200, _chat_completion(model, tools))
        elif self.path.endswith("/responses"):
            self._json(200, _response(model))
        elif self.path.endswith("/messages"):
            if stream:
                self._sse(_anthropic_events(model), done=False)
            else:
                self._json(200, _anthropic_message(model, tools))
        else:
            self._json(404, {"error": {"message": f"no fake for {self.path}"}})

    def _json(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout case)

    def _sse(self, events: list[tuple[str | None, dict[str, Any]]], *, done: bool) -> None:
        lines = []
        for name, data in events:
            if name:
                lines.append(f"event: {name}\n")
            lines.append(f"data: {json.dumps(data)}\n\n")
        if done:
            lines.append("data: [DONE]\n\n")
        payload = "".join(lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class FakeProviderServer(ThreadingHTTPServer):
    """Serves both APIs on one 127.0.0.1 port; ``base_url`` feeds ``OpenAI(base_url=...)``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stopping = threading.Event()
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def record(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append((path, headers, body))

    def __enter__(self) -> FakeProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)
