"""A tiny timing harness shared by the benchmark scripts.

Each script builds a list of :class:`Row` objects, one per kernel, and calls
:func:`print_table`.  Timings use the best of several repeats after one warm-up
call (which also triggers numba compilation), so compilation is never counted.
"""
import time
from dataclasses import dataclass


def best_time(function, *, repeats=5, warmup=1, clock=time.perf_counter):
    """Best time in seconds of ``function()`` over ``repeats`` calls.

    ``clock`` is wall time by default; pass ``time.process_time`` for the CPU time this
    process consumed (on a shared machine, the cost per core of a single-threaded kernel).
    """
    for _ in range(warmup):
        function()
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        function()
        best = min(best, clock() - start)
    return best


@dataclass
class Row:
    """One benchmark result: ``work`` units done in ``seconds``, against a reference."""

    name: str
    unit: str
    work: float
    seconds: float
    reference_seconds: float | None = None
    target: str = ""

    @property
    def throughput(self):
        return self.work / self.seconds

    @property
    def speedup(self):
        if self.reference_seconds is None:
            return None
        return self.reference_seconds / self.seconds


def print_table(rows, title):
    """Print ``rows`` as a markdown table (ready to paste into the README)."""
    print(f"\n### {title}\n")
    print("| kernel | throughput | time | vs numpy reference | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        ratio = "" if row.speedup is None else f"{row.speedup:.1f}x"
        print(f"| {row.name} | {row.throughput:.3g} {row.unit}/s | {row.seconds * 1e3:.2f} ms | {ratio} | {row.target} |")
