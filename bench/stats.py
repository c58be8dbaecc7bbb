"""Timing helpers shared by the benchmarks."""
from __future__ import annotations

import time


def percentile(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of ``values`` by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def timed(fn, reps: int, before=None) -> list[float]:
    """Return the milliseconds of ``reps`` calls of ``fn`` (``before`` runs untimed before each)."""
    out = []
    for _ in range(reps):
        if before:
            before()
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out
