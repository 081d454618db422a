"""Agent traces in other libraries' conventions, with known answers, made by the real OTel SDK.

Only the agent span names its agent, as in the GenAI conventions, Strands, OpenInference,
OpenLLMetry's decorators, pydantic-ai and Langfuse (attribute sets taken from each library's
tracer source; the recorded fixtures under tests/fixtures cover what was recorded). Agents nest
(an agent used as another's tool), traces may have a root that is not an agent (an HTTP request),
and plain spans may sit between an agent and its steps.

`build()` makes the plan: a tree of nodes per trace, each with its kind, its agent name (agent
nodes) and its tokens; `expected()` walks the plan to say which agent each step belongs to, in
plain Python; `spans()` runs the plan through a real TracerProvider and returns the finished SDK
spans, which the tests export in whatever order they choose.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

BASE_NS = 1_764_100_000_000_000_000  # 2025-11-25T19:46:40Z
MS = 1_000_000
MODEL = "gpt-4o-mini"
SERVICE = "attribution-svc"


@dataclass
class Node:
    """One span of the plan. kind: agent | llm | tool | chain | plain (not a GenAI step)."""

    kind: str
    name: str  # the agent's name for an agent node, else the step's name
    style: str  # otel | strands | openinference | traceloop | pydantic | langfuse
    children: list[Node] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    workflow: bool = False  # a Traceloop workflow (an agent too)
    span_id: str = ""
    trace_id: str = ""

    def add(self, *nodes: Node) -> Node:
        self.children.extend(nodes)
        return self

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


def _llm(style: str, i: int, k: int) -> Node:
    return Node("llm", f"call {k}", style, input_tokens=300 + 17 * i + k, output_tokens=40 + 3 * i + k)


def _otel_run(i: int) -> Node:
    """HTTP root -> planner -> (plain span -> chat), tool search, tool research -> researcher ->
    (chat, chat, tool fetch -> writer -> chat): three agents, two of them nested."""
    writer = Node("agent", "writer", "otel").add(_llm("otel", i, 5))
    researcher = Node("agent", "researcher", "otel").add(
        _llm("otel", i, 2), _llm("otel", i, 3), Node("tool", "fetch", "otel").add(writer)
    )
    planner = Node("agent", "planner", "otel").add(
        Node("plain", "plan.think", "otel").add(_llm("otel", i, 0)),
        _llm("otel", i, 1),
        Node("tool", "search", "otel"),
        Node("tool", "research", "otel").add(researcher),
    )
    return Node("plain", "POST /ask", "otel").add(planner) if i % 2 == 0 else planner


def _writer_run(i: int) -> Node:
    """A writer run whose root is the agent itself."""
    return Node("agent", "writer", "otel").add(
        _llm("otel", i, 0), _llm("otel", i, 1), Node("tool", "format", "otel"), _llm("otel", i, 2)
    )


def _strands_run(i: int) -> Node:
    cycle = Node("chain", "execute_event_loop_cycle", "strands").add(
        _llm("strands", i, 0), Node("tool", "calculator", "strands")
    )
    return Node("agent", "strands-helper", "strands").add(
        cycle, Node("chain", "execute_event_loop_cycle", "strands").add(_llm("strands", i, 1))
    )


def _openinference_run(i: int) -> Node:
    chain = Node("chain", "retrieve-and-answer", "openinference").add(
        _llm("openinference", i, 0), Node("tool", "lookup", "openinference")
    )
    return Node("agent", "oi-support", "openinference").add(chain, _llm("openinference", i, 1))


def _traceloop_run(i: int) -> Node:
    agent = Node("agent", "tl-drafter", "traceloop").add(
        Node("chain", "outline", "traceloop").add(_llm("traceloop", i, 0)),
        Node("tool", "spellcheck", "traceloop"),
    )
    return Node("agent", "tl-pipeline", "traceloop", workflow=True).add(agent, _llm("traceloop", i, 1))


def _pydantic_run(i: int) -> Node:
    return Node("agent", "pa-bank", "pydantic").add(
        _llm("pydantic", i, 0), Node("tool", "balance", "pydantic"), _llm("pydantic", i, 1)
    )


def _langfuse_run(i: int) -> Node:
    return Node("agent", "lf-triage", "langfuse").add(_llm("langfuse", i, 0), _llm("langfuse", i, 1))


RUNS = (
    _otel_run,
    _writer_run,
    _strands_run,
    _openinference_run,
    _traceloop_run,
    _pydantic_run,
    _langfuse_run,
)


def build(rounds: int = 3) -> list[Node]:
    """The traces' roots: every kind of run, `rounds` times."""
    return [make(i) for i in range(rounds) for make in RUNS] + [_otel_run(rounds)]


@dataclass
class AgentFigures:
    executions: int = 0
    steps: int = 0
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    span_ids: set[str] = field(default_factory=set)  # model calls, to sum their stored cost


def expected(roots: list[Node]) -> dict[str, AgentFigures]:
    """Per agent, from the plan alone: its executions (own agent spans), the steps whose nearest
    enclosing agent it is (GenAI steps only: plain spans are not stored as steps), model calls
    and their tokens."""
    figures: dict[str, AgentFigures] = defaultdict(AgentFigures)

    def visit(node: Node, agent: str) -> None:
        if node.kind == "agent":
            agent = node.name
            figures[agent].executions += 1
        elif node.kind != "plain":
            figures[agent].steps += 1
        if node.kind == "llm":
            f = figures[agent]
            f.llm_calls += 1
            f.input_tokens += node.input_tokens
            f.output_tokens += node.output_tokens
            f.span_ids.add(node.span_id)
        for child in node.children:
            visit(child, agent)

    for root in roots:
        visit(root, "")
    return dict(figures)


def spans(roots: list[Node]) -> list[ReadableSpan]:
    """Run the plan through a real TracerProvider; returns the finished spans (ids filled in)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.attribution_workload")
    for index, root in enumerate(roots):
        _emit(tracer, root, None, BASE_NS + index * 60_000 * MS, ("", ""))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def _emit(
    tracer: trace.Tracer, node: Node, parent: trace.Span | None, start: int, names: tuple[str, str]
) -> int:
    """Start `node` at `start`, its children one after another inside it; returns its end."""
    context = trace.set_span_in_context(parent) if parent is not None else None
    workflow, agent = names
    if node.kind == "agent":
        workflow, agent = (node.name, "") if node.workflow else (workflow, node.name)
    span = tracer.start_span(_span_name(node), context=context, start_time=start)
    span.set_attributes(_attributes(node, workflow, agent))
    node.span_id = format(span.get_span_context().span_id, "016x")
    node.trace_id = format(span.get_span_context().trace_id, "032x")
    cursor = start + MS
    for child in node.children:
        cursor = _emit(tracer, child, span, cursor, (workflow, agent)) + MS
    end = cursor + (40 if node.kind == "llm" else 5) * MS
    span.end(end_time=end)
    return end


def _span_name(node: Node) -> str:
    if node.kind == "agent":
        return {
            "otel": f"invoke_agent {node.name}",
            "strands": f"invoke_agent {node.name}",
            "openinference": node.name,
            "traceloop": f"{node.name}.{'workflow' if node.workflow else 'agent'}",
            "pydantic": "agent run",
            "langfuse": node.name,
        }[node.style]
    if node.kind == "llm":
        return {"traceloop": "openai.chat", "openinference": "ChatCompletion", "langfuse": "generation"}.get(
            node.style, f"chat {MODEL}"
        )
    if node.kind == "tool":
        return {"pydantic": "running tool", "traceloop": f"{node.name}.tool"}.get(
            node.style, f"execute_tool {node.name}"
        )
    return node.name


def _attributes(node: Node, workflow: str, agent: str) -> dict:
    style, kind = node.style, node.kind
    if kind == "plain":
        return (
            {"http.request.method": "POST"} if node.name.startswith("POST") else {"code.function": node.name}
        )
    if style == "otel":
        return _otel(node)
    if style == "strands":
        return _strands(node)
    if style == "openinference":
        return _openinference(node)
    if style == "traceloop":
        return _traceloop(node, workflow)
    if style == "pydantic":
        return _pydantic(node)
    return _langfuse(node, agent)


def _otel_usage(node: Node) -> dict:
    return {"gen_ai.usage.input_tokens": node.input_tokens, "gen_ai.usage.output_tokens": node.output_tokens}


def _otel(node: Node) -> dict:
    if node.kind == "agent":
        return {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": node.name}
    if node.kind == "tool":
        return {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": node.name}
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL,
        **_otel_usage(node),
    }


def _strands(node: Node) -> dict:
    common = {"gen_ai.system": "strands-agents", "gen_ai.event.start_time": "2025-11-25T19:46:40+00:00"}
    if node.kind == "agent":  # the agent span holds the run's accumulated usage: never counted
        return {
            **common,
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": node.name,
            "gen_ai.request.model": MODEL,
            "gen_ai.usage.input_tokens": 999,
            "gen_ai.usage.output_tokens": 99,
            "gen_ai.usage.total_tokens": 1098,
        }
    if node.kind == "chain":
        return {"gen_ai.event.start_time": "2025-11-25T19:46:40+00:00", "event_loop.cycle_id": node.name}
    if node.kind == "tool":
        return {**common, "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": node.name}
    return {
        **common,
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": MODEL,
        **_otel_usage(node),
        "gen_ai.usage.total_tokens": node.input_tokens + node.output_tokens,
    }


def _openinference(node: Node) -> dict:
    if node.kind == "agent":
        return {"openinference.span.kind": "AGENT", "agent.name": node.name}
    if node.kind == "chain":
        return {"openinference.span.kind": "CHAIN"}
    if node.kind == "tool":
        return {"openinference.span.kind": "TOOL", "tool.name": node.name}
    return {
        "openinference.span.kind": "LLM",
        "llm.model_name": MODEL,
        "llm.provider": "openai",
        "llm.token_count.prompt": node.input_tokens,
        "llm.token_count.completion": node.output_tokens,
        "llm.token_count.total": node.input_tokens + node.output_tokens,
    }


def _traceloop(node: Node, workflow: str) -> dict:
    base = {"traceloop.workflow.name": workflow} if workflow else {}
    if node.kind in ("agent", "chain", "tool"):
        span_kind = {"chain": "task"}.get(node.kind, node.kind)
        if node.workflow:
            span_kind = "workflow"
        return {**base, "traceloop.span.kind": span_kind, "traceloop.entity.name": node.name}
    return {
        **base,
        "llm.request.type": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": MODEL,
        **_otel_usage(node),
        "llm.usage.total_tokens": node.input_tokens + node.output_tokens,
    }


def _pydantic(node: Node) -> dict:
    if node.kind == "agent":  # pydantic-ai before instrumentation version 2: `agent run`
        return {
            "agent_name": node.name,
            "model_name": MODEL,
            "logfire.msg": f"{node.name} run",
            "gen_ai.usage.input_tokens": 999,
            "gen_ai.usage.output_tokens": 99,
        }
    if node.kind == "tool":
        return {"gen_ai.tool.name": node.name, "gen_ai.tool.call.id": f"call-{node.name}"}
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": MODEL,
        **_otel_usage(node),
    }


def _langfuse(node: Node, agent: str) -> dict:
    trace_name = {"langfuse.trace.name": agent} if agent else {}
    if node.kind == "agent":
        return {"langfuse.observation.type": "agent", **trace_name}
    return {
        "langfuse.observation.type": "generation",
        "langfuse.observation.model.name": MODEL,
        "langfuse.observation.usage_details": json.dumps(
            {"input": node.input_tokens, "output": node.output_tokens}
        ),
        **trace_name,
    }


def children_first(finished: list[ReadableSpan], seed: int, batch: int) -> list[list[ReadableSpan]]:
    """Batches that deliver every span before its parent: deepest spans first, shuffled within a
    depth (fixed seed), cut into requests of at most `batch` spans."""
    by_id = {s.context.span_id: s for s in finished}

    def depth(span: ReadableSpan) -> int:
        d = 0
        while span.parent is not None and span.parent.span_id in by_id:
            span, d = by_id[span.parent.span_id], d + 1
        return d

    rng = random.Random(seed)
    levels: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in finished:
        levels[depth(span)].append(span)
    ordered: list[ReadableSpan] = []
    for level in sorted(levels, reverse=True):
        group = levels[level]
        rng.shuffle(group)
        ordered += group
    return [ordered[i : i + batch] for i in range(0, len(ordered), batch)]
