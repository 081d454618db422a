"""CPU time of another process, in all and in its ClickHouse background merges (Linux /proc).

The isolated stages (benchmarks.stages) say what each step costs alone; this says what a running
collector spends per span, request threads and chDB's threads together, and how much of it goes
to the merges ClickHouse runs after each insert (its `MergeMutate` threads), which a raw insert
baseline finishes before paying. Threads are read every `interval_s`; a merge thread that ends
between two reads loses its last interval, so the merge figure is a lower bound (the total,
from the process's own counters, is exact).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

MERGE_THREAD_PREFIX = "MergeMutate"
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _name_and_ticks(stat: str) -> tuple[str, int]:
    """(thread or process name, user + system ticks) of one /proc stat line."""
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    return name, int(fields[11]) + int(fields[12])  # utime, stime


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, ProcessLookupError):  # the thread ended
        return None


class ProcessCpu:
    """With-block measuring `pid`'s CPU seconds: `total_s` and `merges_s` once it has ended."""

    def __init__(self, pid: int, *, interval_s: float = 0.1) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.total_s = 0.0
        self.merges_s = 0.0
        self._first: dict[str, int] = {}
        self._last: dict[str, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="process-cpu", daemon=True)
        self._start_ticks = 0

    def _process_ticks(self) -> int:
        return _name_and_ticks(Path(f"/proc/{self.pid}/stat").read_text())[1]

    def _read_threads(self) -> None:
        for stat_path in Path(f"/proc/{self.pid}/task").glob("*/stat"):
            stat = _read(stat_path)
            if stat is not None:
                tid = stat_path.parent.name
                name, ticks = _name_and_ticks(stat)
                self._first.setdefault(tid, ticks)
                self._last[tid] = (name, ticks)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._read_threads()

    def __enter__(self) -> ProcessCpu:
        self._start_ticks = self._process_ticks()
        self._read_threads()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read_threads()
        self.total_s = (self._process_ticks() - self._start_ticks) / _TICKS_PER_S
        merge_ticks = sum(
            ticks - self._first[tid]
            for tid, (name, ticks) in self._last.items()
            if name.startswith(MERGE_THREAD_PREFIX)
        )
        self.merges_s = merge_ticks / _TICKS_PER_S
