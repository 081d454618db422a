"""A simulated multi-agent workload, written with spanhouse.instrumentation as users write theirs.

Four agents, two models, tool calls, a nested agent used as a tool, and a few failures
(timeouts, validation errors), all decided by one seeded random generator.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from spanhouse.instrumentation import agent, record_usage, score, step, tool

FAST_MODEL = ("openai", "gpt-4o-mini")
STRONG_MODEL = ("anthropic", "claude-3-5-sonnet-20241022")


class SearchTimeout(TimeoutError):
    """The simulated search backend did not answer in time."""


class DraftValidationError(ValueError):
    """The simulated spell checker rejected a draft."""


@dataclass(frozen=True)
class WorkloadSettings:
    runs: int = 40
    seed: int = 7
    concurrency: int = 4
    time_scale: float = 1.0  # 0 skips the simulated latency (tests)


class _Sim:
    """Latency and token draws for one run, from its own seeded generator."""

    def __init__(self, seed: int, time_scale: float) -> None:
        self.rng = random.Random(seed)
        self.time_scale = time_scale

    def wait(self, low_ms: float, high_ms: float) -> None:
        if self.time_scale > 0:
            time.sleep(self.rng.uniform(low_ms, high_ms) * self.time_scale / 1000)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def llm(self, name: str, model: tuple[str, str], *, low: int = 20, high: int = 80) -> None:
        provider, model_name = model
        with step(name, kind="llm"):
            self.wait(low, high)
            prompt = self.rng.randint(200, 1500)
            cached = self.rng.choice((0, 0, prompt // 2))
            record_usage(
                model=model_name,
                provider=provider,
                input_tokens=prompt,
                cached_input_tokens=cached,
                output_tokens=self.rng.randint(40, 400),
                finish_reason="stop",
            )


def _triage(sim: _Sim) -> None:
    with agent("triage"):
        sim.llm("classify request", FAST_MODEL)
        with tool("lookup_customer"):
            sim.wait(5, 20)
        if sim.chance(0.5):
            sim.llm("draft reply", FAST_MODEL)
        score(round(sim.rng.uniform(0.6, 0.95), 3), confidence=round(sim.rng.uniform(0.5, 0.9), 3))


def _research(sim: _Sim) -> None:
    with agent("researcher"):
        sim.llm("plan queries", STRONG_MODEL)
        with tool("web_search"):
            sim.wait(10, 40)
            if sim.chance(0.15):
                raise SearchTimeout("search backend did not answer within 10s")
        sim.llm("summarize findings", STRONG_MODEL, low=40, high=120)
        score(round(sim.rng.uniform(0.5, 0.9), 3))


def _plan(sim: _Sim) -> None:
    with agent("planner"):
        sim.llm("break down task", STRONG_MODEL)
        with tool("ask_researcher"):
            try:
                _research(sim)
            except SearchTimeout:
                sim.llm("plan without research", FAST_MODEL)
        sim.llm("final plan", FAST_MODEL)


def _write(sim: _Sim) -> None:
    with agent("writer"):
        sim.llm("outline", FAST_MODEL)
        sim.llm("draft", STRONG_MODEL, low=60, high=150)
        try:
            with tool("spell_check"):
                sim.wait(5, 15)
                if sim.chance(0.2):
                    raise DraftValidationError("draft has 3 unknown words")
        except DraftValidationError:
            sim.llm("fix draft", FAST_MODEL)
        score(round(sim.rng.uniform(0.7, 0.98), 3), confidence=round(sim.rng.uniform(0.6, 0.95), 3))


_AGENTS = (_triage, _research, _plan, _write)


def run_workload(
    settings: WorkloadSettings,
    *,
    before_run: Callable[[], None] | None = None,
    after_run: Callable[[int], None] | None = None,
) -> int:
    """Run `settings.runs` agent runs; returns how many of them failed (raised).

    `before_run()` may block to hold the next run back (back-pressure); `after_run(done)` gets
    the number of runs finished so far (progress).
    """
    failures = done = 0
    lock = threading.Lock()

    def one(index: int) -> None:
        nonlocal failures, done
        if before_run is not None:
            before_run()
        sim = _Sim(settings.seed * 100_003 + index, settings.time_scale)
        try:
            _AGENTS[index % len(_AGENTS)](sim)
        except SearchTimeout:
            with lock:
                failures += 1
        with lock:
            done += 1
            finished = done
        if after_run is not None:
            after_run(finished)

    with ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="agent") as pool:
        list(pool.map(one, range(settings.runs)))
    return failures
