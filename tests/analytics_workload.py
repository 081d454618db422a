"""A deterministic agent workload with known answers, sent through the real OTel SDK.

`build_plan()` decides every run, step, duration, token count, error and score from the run
index alone; `emit()` sends the plan as spans with explicit start and end times, and records
the span ids the SDK gave them. The tests compute every expected figure from the plan in
plain Python and compare it with what the SQL reports return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode

BASE_NS = 1_764_000_000_000_000_000  # 2025-11-24T16:00:00Z
RUN_SPACING_NS = 2 * 3600 * 10**9  # one run every two hours
MS = 1_000_000
SERVICE = "analytics-svc"
LEGACY_SERVICE = "legacy-svc"
MODEL = "gpt-4o-mini"

AGENTS = ("triage", "research", "writer")


@dataclass
class StepPlan:
    kind: str  # llm | tool | agent
    name: str
    start_ns: int
    duration_ns: int
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    error: str = ""  # status message when the step fails
    quality: float | None = None
    confidence: float | None = None
    parent: StepPlan | None = None
    span_id: str = ""

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns

    @property
    def duration_ms(self) -> float:
        return self.duration_ns / MS

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def error_type(self) -> str:
        if not self.error:
            return ""
        if "timed out" in self.error:
            return "timeout_error"
        return {"tool": "tool_error", "llm": "generation_error"}.get(self.kind, "agent_error")


@dataclass
class RunPlan:
    index: int
    agent: str
    root: StepPlan
    steps: list[StepPlan]
    convention: str = "spanhouse"  # or otel_genai (no spanhouse attributes at all)
    finished: bool = True  # False: the root span never ends (an in-flight run)
    trace_id: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.root.error)

    @property
    def spans(self) -> list[StepPlan]:
        return [self.root, *self.steps] if self.finished else list(self.steps)

    @property
    def start_ns(self) -> int:
        return min(s.start_ns for s in self.spans)

    @property
    def end_ns(self) -> int:
        return max(s.end_ns for s in self.spans)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / MS

    @property
    def run_id(self) -> str:
        return self.trace_id if self.convention != "spanhouse" else self.root.span_id


@dataclass
class Plan:
    runs: list[RunPlan] = field(default_factory=list)

    @property
    def finished(self) -> list[RunPlan]:
        return [r for r in self.runs if r.finished]

    @property
    def span_count(self) -> int:
        return sum(len(r.spans) for r in self.runs)


def _noise(i: int) -> float:
    """A fixed pseudo-random value in [-0.05, 0.05] per index."""
    return ((i * 7919) % 101) / 1000.0 - 0.05


def _run(i: int, agent: str, start: int) -> RunPlan:
    root = StepPlan("agent", agent, start, 0)
    steps: list[StepPlan] = []
    cursor = start + 2 * MS
    n_llm = {"triage": 1, "research": 4, "writer": 6}[agent]
    base_ms = {"triage": 300, "research": 1500, "writer": 2000}[agent]
    tokens_in = {"triage": 400, "research": 500, "writer": 600}[agent]
    for k in range(n_llm):
        duration = (base_ms + (i * 37 + k * 101) % 700) * MS
        step = StepPlan(
            "llm",
            f"{agent} call {k}",
            cursor,
            duration,
            model=MODEL,
            input_tokens=tokens_in + (i * 53 + k * 17) % 300,
            output_tokens=50 + (i % 7) * 20 + k,
            parent=root,
        )
        if agent == "writer" and k == 2 and i % 13 == 4:
            step.error = "provider rate limited the request"
        if agent == "writer" and k == 5 and i % 5 == 0:
            step.duration_ns = 11_000 * MS  # slow_execution
        steps.append(step)
        cursor = step.end_ns + MS
    tool = StepPlan("tool", f"{agent}_search", cursor, (20 + (i * 13) % 300) * MS, parent=root)
    if i % 7 == 3:
        tool.error = "search backend refused the query"
        root.error = "search backend refused the query"  # propagates: the run fails
    elif i % 11 == 5:
        tool.error = "search backend timed out"  # caught by the agent: the run succeeds
    steps.append(tool)
    cursor = tool.end_ns + 3 * MS
    root.duration_ns = cursor - start
    quality = {
        "triage": 0.50 + 0.006 * i,
        "research": 0.95 - 0.006 * i,
        "writer": 0.75,
    }[agent] + _noise(i)
    root.quality = round(min(max(quality, 0.0), 1.0), 4)
    root.confidence = 0.3 if i % 9 == 2 else 0.8
    return RunPlan(i, agent, root, steps)


def _legacy_run(i: int, start: int) -> RunPlan:
    """A run in the bare OTel GenAI convention: no run id stamped on the child spans."""
    root = StepPlan("agent", "legacy", start, 0)
    chat = StepPlan(
        "llm",
        f"chat {MODEL}",
        start + MS,
        400 * MS,
        model=MODEL,
        input_tokens=200,
        output_tokens=20,
        parent=root,
    )
    tool = StepPlan("tool", "legacy_lookup", chat.end_ns, 100 * MS, parent=root)
    root.duration_ns = tool.end_ns + MS - start
    return RunPlan(i, "legacy", root, [chat, tool], convention="otel_genai")


def build_plan(runs: int = 60) -> Plan:
    plan = Plan()
    for i in range(runs):
        plan.runs.append(_run(i, AGENTS[i % len(AGENTS)], BASE_NS + i * RUN_SPACING_NS))
    for j in range(2):
        plan.runs.append(_legacy_run(runs + j, BASE_NS + (runs + j) * RUN_SPACING_NS))
    active = _run(runs + 2, "triage", BASE_NS + (runs + 2) * RUN_SPACING_NS)
    active.finished = False
    plan.runs.append(active)
    return plan


def _attributes(step: StepPlan, run: RunPlan) -> dict:
    attrs: dict = {"gen_ai.agent.name": run.agent}
    if run.convention == "spanhouse":
        attrs["spanhouse.step.kind"] = step.kind
        attrs["spanhouse.run.id"] = run.root.span_id
        if step.kind == "llm":
            attrs["spanhouse.step.name"] = step.name
    if step.kind == "agent":
        attrs["gen_ai.operation.name"] = "invoke_agent"
    elif step.kind == "tool":
        attrs["gen_ai.operation.name"] = "execute_tool"
        attrs["gen_ai.tool.name"] = step.name
    else:
        attrs.update(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": step.model,
                "gen_ai.usage.input_tokens": step.input_tokens,
                "gen_ai.usage.output_tokens": step.output_tokens,
            }
        )
    if step.quality is not None:
        attrs["spanhouse.quality.score"] = step.quality
    if step.confidence is not None:
        attrs["spanhouse.quality.confidence"] = step.confidence
    return attrs


def emit(plan: Plan, make_exporter: Callable[[], SpanExporter]) -> None:
    """Send every span of `plan` through exporters from `make_exporter`, filling in span and trace ids."""
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    legacy_provider = TracerProvider(resource=Resource.create({"service.name": LEGACY_SERVICE}))
    for p in (provider, legacy_provider):
        p.add_span_processor(
            BatchSpanProcessor(make_exporter(), max_export_batch_size=256, schedule_delay_millis=50)
        )
    for run in plan.runs:
        chosen = provider if run.convention == "spanhouse" else legacy_provider
        tracer = chosen.get_tracer("tests.analytics_workload")
        root = tracer.start_span(f"invoke_agent {run.agent}", start_time=run.root.start_ns)
        context = root.get_span_context()
        run.root.span_id = format(context.span_id, "016x")
        run.trace_id = format(context.trace_id, "032x")
        root.set_attributes(_attributes(run.root, run))
        ctx = trace.set_span_in_context(root)
        for step in run.steps:
            span = tracer.start_span(
                step.name if step.kind != "tool" else f"execute_tool {step.name}",
                context=ctx,
                start_time=step.start_ns,
                attributes=_attributes(step, run),
            )
            step.span_id = format(span.get_span_context().span_id, "016x")
            if step.error:
                span.set_status(Status(StatusCode.ERROR, step.error))
            span.end(end_time=step.end_ns)
        if run.finished:
            if run.root.error:
                root.set_status(Status(StatusCode.ERROR, run.root.error))
            root.end(end_time=run.root.end_ns)
    provider.shutdown()
    legacy_provider.shutdown()
