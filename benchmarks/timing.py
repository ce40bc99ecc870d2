"""Side-by-side timing: contenders interleaved within each repeat, medians over the repeats."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["interleaved", "median_ratio", "stopwatch"]


def stopwatch(fn: Callable[[], object]) -> tuple[float, object]:
    """``(seconds, result)`` of one call of ``fn``."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved(contenders: dict[str, Callable[[], object]], *, repeats: int, warmup: bool = True) -> dict[str, list[float]]:
    """Time every contender once per repeat, in a rotating order, so that a burst of load on a
    shared machine hits all of them alike; returns the seconds of each call, per contender."""
    names = list(contenders)
    if not names:
        return {}
    if warmup:
        for name in names:
            contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            times[name].append(stopwatch(contenders[name])[0])
    return times


def median_ratio(times: dict[str, list[float]], num: str, den: str) -> float:
    """The median over repeats of ``num``'s time divided by ``den``'s in the same repeat."""
    return statistics.median(a / b for a, b in zip(times[num], times[den]))
