"""A/B experiments: deterministic weighted assignment, recorded on the spans that follow.

``experiment("prompt-v2", variants={"control": 0.5, "candidate": 0.5}).assign(user_id)`` hashes
the experiment id and the unit id (SHA-256, so the same unit gets the same variant in every
process, on every machine, whatever ``PYTHONHASHSEED`` says) onto the variants' weights.
Variants are ordered by name, so how a dict was written doesn't change who gets what.
Inside ``with exp.use(unit_id):`` every span carries ``spanhouse.experiment.id`` and
``spanhouse.experiment.variant``, which the collector stores as ExperimentId and Variant.
``run_experiment(exp, unit_id, {"control": old_agent, "candidate": new_agent}, question)`` runs
the unit's variant's function that way (awaitable when the function is async).

The experiment's definition for evaluation (metrics, alpha, the split to check against) is made
with ``spanhouse experiments create``; its name is this id.
"""

from __future__ import annotations

import hashlib
import inspect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from . import _attributes as attr
from ._steps import _EXPERIMENT_KEY

_SCALE = float(2**64)


class Experiment:
    """Variants with weights; :meth:`assign` picks one per unit, the same one every time."""

    __slots__ = ("_bounds", "id", "variants")

    def __init__(self, id: str, variants: Mapping[str, float] | Sequence[str]) -> None:
        if not isinstance(id, str) or not id.strip():
            raise ValueError(f"experiment id must be a non-empty string, got {id!r}")
        if isinstance(variants, str):
            raise TypeError("variants must be a mapping of name -> weight or a list of names, not a string")
        weights = dict(variants) if isinstance(variants, Mapping) else dict.fromkeys(variants, 1.0)
        if not weights:
            raise ValueError(f"experiment {id!r} needs at least one variant")
        for name, weight in weights.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"variant names must be non-empty strings, got {name!r}")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
                raise ValueError(f"weight of variant {name!r} must be a finite number, got {weight!r}")
            if weight < 0:
                raise ValueError(f"weight of variant {name!r} must be >= 0, got {weight}")
        total = float(sum(weights.values()))
        if total <= 0:
            raise ValueError(f"experiment {id!r} needs a variant with a weight above 0")
        self.id = id
        self.variants = {name: weights[name] / total for name in sorted(weights)}
        bounds, cumulative = [], 0.0
        for name, share in self.variants.items():
            cumulative += share
            if share > 0:
                bounds.append((cumulative, name))
        self._bounds = tuple(bounds)

    def assign(self, unit_id: str | int) -> str:
        """The variant of ``unit_id`` (a user, session or request id)."""
        if isinstance(unit_id, bool) or not isinstance(unit_id, (str, int)) or unit_id == "":
            raise ValueError(f"unit_id must be a non-empty string or an int, got {unit_id!r}")
        digest = hashlib.sha256(f"{self.id}\x00{unit_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / _SCALE
        for bound, name in self._bounds:
            if point < bound:
                return name
        return self._bounds[-1][1]  # rounding left the last bound a hair below 1.0

    @contextmanager
    def use(self, unit_id: str | int) -> Iterator[str]:
        """Assign ``unit_id`` and record the variant on every span started inside; yields it.

        The span that is current on entry (typically the agent run) is stamped too. Spans
        from other tracers are stamped by the RunContextSpanProcessor that configure() installs.
        """
        variant = self.assign(unit_id)
        current = trace.get_current_span()
        if current.is_recording():
            current.set_attributes({attr.EXPERIMENT_ID: self.id, attr.EXPERIMENT_VARIANT: variant})
        token = otel_context.attach(otel_context.set_value(_EXPERIMENT_KEY, (self.id, variant)))
        try:
            yield variant
        finally:
            otel_context.detach(token)

    def run(
        self, unit_id: str | int, functions: Mapping[str, Callable[..., Any]], /, *args: Any, **kwargs: Any
    ) -> Any:
        """Call the function of `unit_id`'s variant with `args` inside :meth:`use`; returns its result.

        `functions` names one function per variant that can be assigned, no more: a missing or
        unknown variant is a ValueError before anything runs. An async function gives back a
        coroutine that enters the experiment when awaited, so every span it starts is stamped.
        """
        self._check_functions(functions)
        chosen = functions[self.assign(unit_id)]
        if inspect.iscoroutinefunction(chosen):
            return self._run_async(unit_id, chosen, args, kwargs)
        with self.use(unit_id):
            return chosen(*args, **kwargs)

    async def _run_async(
        self, unit_id: str | int, chosen: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        with self.use(unit_id):
            return await chosen(*args, **kwargs)

    def _check_functions(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        if not isinstance(functions, Mapping):
            raise TypeError("functions must map each variant name to the function that runs it")
        assignable = {name for _, name in self._bounds}
        missing = sorted(assignable - set(functions))
        unknown = sorted(set(functions) - set(self.variants))
        if missing or unknown:
            problems = []
            if missing:
                problems.append(f"no function for variant(s) {', '.join(missing)}")
            if unknown:
                problems.append(f"{', '.join(map(repr, unknown))} is not a variant of {self.id!r}")
            raise ValueError(f"{'; '.join(problems)}; variants: {', '.join(self.variants)}")
        for name, function in functions.items():
            if not callable(function):
                raise TypeError(f"the function of variant {name!r} is not callable: {function!r}")

    def __repr__(self) -> str:
        return f"experiment({self.id!r}, variants={self.variants!r})"


def experiment(id: str, variants: Mapping[str, float] | Sequence[str]) -> Experiment:
    """Define an experiment: ``experiment("ranker", {"a": 0.9, "b": 0.1}).assign(user_id)``."""
    return Experiment(id, variants)


def run_experiment(
    exp: Experiment,
    unit_id: str | int,
    functions: Mapping[str, Callable[..., Any]],
    /,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Run the agent function of `unit_id`'s variant, every span it makes carrying the variant.

    ``run_experiment(prompts, user.id, {"control": answer_v1, "candidate": answer_v2}, question)``
    is ``prompts.run(user.id, {...}, question)``; see :meth:`Experiment.run`.
    """
    return exp.run(unit_id, functions, *args, **kwargs)
