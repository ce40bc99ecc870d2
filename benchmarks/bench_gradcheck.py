"""Benchmark 1: what a gradient check costs as a layer grows, and whether it catches one wrong entry.

The layer: dense, ``out = x @ W + b`` with x (D, D), W (D, D), b (D,), float64, so
P = 2 D^2 + D parameters are checked (1e2 to 1e6). The checkers:

- ``gradelib``: ``gradelib.check_layer`` (random directional derivatives; the count does not grow with P):
  23 evaluations for a correct layer: the point and a repeat (is forward a function?), three
  random directions per input at two evaluations each, one joint direction that keeps ties
  tied, and a final repeat. Before issue 11 it was 19 (no repeats, no joint direction).
- ``full sweep``: ``gradelib.numerical_gradient`` on every input, as the CS231n checker does:
  2P evaluations, then per input the largest entrywise error relative to the largest entry,
  failing above 1e-6. (CS231n's entrywise ``|a - n| / (|a| + |n|)`` flags correct layers
  from about 1e4 parameters: some entries are near zero, where round-off dominates.)
- ``torch slow``: ``torch.autograd.gradcheck(fast_mode=False)`` on a ``torch.autograd.Function``
  with the same backward: the full numerical (2P evaluations) and analytical (one backward
  per output entry) Jacobians, P x D^2 each.
- ``torch fast``: ``torch.autograd.gradcheck(fast_mode=True)``: one random projection.

The wrong layer scales one entry of dW by 1.01 (a linear mistake, so a Jacobian exists for
torch to compare). Where a full sweep or a slow gradcheck would take longer than ``RUN_CAP``
seconds or more than ``MEMORY_CAP`` bytes of Jacobians, it is not run: its time is
extrapolated from the measured cost of one evaluation (and one backward) at that size, a lower
bound that leaves out the Jacobians' bookkeeping, and shown as "(est.)".
"""
from __future__ import annotations

import statistics
from pathlib import Path

from .gradcheckers import CHECK, Case, Counter, estimate, make_case
from .report import pyplot, save_figure
from .threads import single_threaded
from .timing import interleaved, median_ratio

__all__ = ["plot", "run"]

SIZES = (7, 22, 70, 223, 707)  # D; P = 2 D^2 + D = 105, 990, 9,870, 99,681, 1,000,405
QUICK_SIZES = (7, 22)
REPEATS = 3
RUN_CAP = 15.0  # seconds one check may take before it is extrapolated instead of run
QUICK_RUN_CAP = 2.0
MEMORY_CAP = 2e9  # bytes of the two Jacobians a slow gradcheck holds
CHECKERS = ("gradelib", "full sweep", "torch slow", "torch fast")


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _measure(case: Case, checkers, cap: float, repeats: int) -> list[dict]:
    """Time the checks that fit the caps side by side on the correct layer; estimate the others."""
    plans = {name: estimate(case, name) for name in checkers}
    runs = [n for n in checkers if plans[n] is None or (plans[n]["seconds"] <= cap and plans[n]["bytes"] <= MEMORY_CAP)]
    counters, passed = {}, {}

    def timed(name):
        def call():
            counters[name] = Counter()
            passed[name] = CHECK[name](case, counters[name], wrong=False)
        return call

    # Checks that would exceed the cap if repeated run once; the others `repeats` times, interleaved.
    cheap = [n for n in runs if plans[n] is None or plans[n]["seconds"] * repeats <= cap]
    times = interleaved({n: timed(n) for n in cheap}, repeats=repeats, warmup=False)
    times.update(interleaved({n: timed(n) for n in runs if n not in cheap}, repeats=1, warmup=False))
    base = statistics.median(times["gradelib"])
    rows = []
    for name in checkers:
        row = {"parameters": case.parameters, "checker": name}
        if name in runs:
            same = len(times[name]) == len(times["gradelib"])
            ratio = median_ratio(times, name, "gradelib") if same else statistics.median(times[name]) / base
            row.update(_measured(case, name, counters[name], passed[name], ratio, times[name], plans[name]))
        else:
            row.update(_estimated(plans[name], base))
        rows.append(row)
    return rows


def _measured(case: Case, name: str, counter: Counter, passed: bool, ratio: float, times: list, plan) -> dict:
    wrong = Counter()
    caught = not CHECK[name](case, wrong, wrong=True)
    return {
        "forward evals": counter.forward, "backward calls": counter.backward, "time × gradelib": ratio,
        "passes correct layer": passed, "catches 1% error in one dW entry": caught, "forward evals, wrong layer": wrong.forward,
        "_seconds": statistics.median(times), "_repeats": len(times), "_estimated_seconds": plan and plan["seconds"],
        "_named_entry": wrong.named, "_sensitivity_dW": counter.sensitivity,
    }


def _estimated(plan: dict, base: float) -> dict:
    return {
        "forward evals": plan["forward"], "backward calls": plan["backward"], "time × gradelib": plan["seconds"] / base,
        "passes correct layer": None, "catches 1% error in one dW entry": None, "forward evals, wrong layer": None,
        "_seconds": plan["seconds"], "_jacobian_bytes": plan["bytes"], "_repeats": 0,
        "estimated": ["forward evals", "backward calls", "time × gradelib"],
    }


def run(*, quick: bool = False) -> list[dict]:
    """One row per layer size and checker; evaluation counts, time relative to gradelib's, catches.

    Runs single-threaded (numpy's BLAS and torch): it compares methods, and one thread makes
    an evaluation cost alike for every checker, and spares torch's thread pool from stalling
    on a shared machine.
    """
    with single_threaded() as threads:
        rows = _run(quick)
    for row in rows:
        row["_threads"] = threads
    return rows


def _run(quick: bool) -> list[dict]:
    has_torch = _torch_available()
    checkers = CHECKERS if has_torch else CHECKERS[:2]
    sizes, cap, repeats = (QUICK_SIZES, QUICK_RUN_CAP, 1) if quick else (SIZES, RUN_CAP, REPEATS)
    warm = make_case(SIZES[0], torch_available=has_torch)
    for name in checkers:  # first calls pay for imports and lazy initialisation: not part of any figure
        CHECK[name](warm, Counter(), wrong=False)
    rows = []
    for D in sizes:
        rows += _measure(make_case(D, torch_available=has_torch), checkers, cap, repeats)
    return rows


def plot(rows: list[dict], out_dir: Path) -> list[Path]:
    plt = pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, color in zip(CHECKERS, ("C0", "C1", "C2", "C3")):
        mine = [r for r in rows if r["checker"] == name]
        if not mine:
            continue
        misses = any(r["catches 1% error in one dW entry"] is False for r in mine)
        label = f"{name} (misses the wrong entry)" if misses else name
        for ax, key in zip(axes, ("forward evals", "_seconds")):
            P = [r["parameters"] for r in mine]
            ax.plot(P, [r[key] for r in mine], color=color, lw=1, alpha=0.5)
            real = [r for r in mine if not r.get("estimated")]
            est = [r for r in mine if r.get("estimated")]
            ax.plot([r["parameters"] for r in real], [r[key] for r in real], "o", color=color,
                    label=label if ax is axes[0] else None)
            ax.plot([r["parameters"] for r in est], [r[key] for r in est], "o", mfc="none", color=color)
    for ax, label in zip(axes, ("forward evaluations", "seconds (median)")):
        ax.set(xscale="log", yscale="log", xlabel="parameters checked (P)", ylabel=label)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_title("Evaluations per check (hollow: estimated)")
    axes[1].set_title("Wall time of a passing check (hollow: estimated)")
    axes[0].legend()
    return [save_figure(fig, out_dir / "gradcheck.png")]
