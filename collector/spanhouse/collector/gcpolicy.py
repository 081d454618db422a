"""Garbage-collector settings for a process whose main job is ingest (the collector, its workers).

Building a request's rows makes thousands of small containers (attribute maps, row tuples)
that all live until the request's Arrow tables are made, then die together by reference
counting. CPython's default policy (a young collection every 700 new containers, promoting the
survivors) spends its time rescanning those survivors: about 15% of the CPU of building rows
on the realistic workload (benchmarks/ingest.py). The ingest path makes no reference cycles of
its own, so collecting less often costs little memory; and the objects alive once the
collector has started (modules, the store client, the servers) are never garbage, so they are
frozen out of every later full collection.

Only a process that runs the collector calls this (the CLI's `collector` command and the
worker processes), never a library user's process or a test process that starts a collector
in-process.
"""

from __future__ import annotations

import gc

# Young collections every this many new containers (CPython's default: 700); the older
# generations keep their default ratios.
YOUNG_THRESHOLD = 20_000


def tune_for_ingest() -> None:
    """Freeze what is alive now and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
