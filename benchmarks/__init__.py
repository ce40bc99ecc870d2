"""Benchmarks of the course and of gradelib: ``python -m benchmarks`` (``make bench``).

Each module ``bench_<name>.py`` has ``run(*, quick=False) -> list[dict]`` (the rows of its
table) and ``plot(rows, out_dir) -> list[Path]``. Every figure reported is a ratio of
contenders timed side by side in one process, interleaved, the median over several repeats:
the machines this runs on are shared and noisy, and ratios survive that where absolute times
do not. ``quick=True`` runs tiny sizes (the test suite's smoke run).
"""
from __future__ import annotations

__all__ = ["BENCHMARKS", "BenchmarkSkipped"]

# In the order `python -m benchmarks` runs them.
BENCHMARKS = ("bench_gradcheck", "bench_backprop", "bench_torch", "bench_grading", "bench_ci", "bench_lstm",
              "bench_bridge")


class BenchmarkSkipped(Exception):
    """A benchmark cannot run here (a missing optional dependency or course file); the message says why."""
