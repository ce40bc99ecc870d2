"""Benchmark 1: what a gradient check costs as a layer grows, and whether it catches one wrong entry.

The layer: dense, ``out = x @ W + b`` with x (D, D), W (D, D), b (D,), float64, so
P = 2 D^2 + D parameters are checked (1e2 to 1e6). The checkers:

- ``gradelib``: ``gradelib.check_layer`` (random directional derivatives; the count does not grow with P).
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
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradelib import GradientCheckError, check_layer, numerical_gradient

from .threads import single_threaded
from .timing import interleaved, median_ratio

__all__ = ["plot", "run"]

SIZES = (7, 22, 70, 223, 707)  # D; P = 2 D^2 + D = 105, 990, 9,870, 99,681, 1,000,405
QUICK_SIZES = (7, 22)
REPEATS = 3
RUN_CAP = 15.0  # seconds one check may take before it is extrapolated instead of run
QUICK_RUN_CAP = 2.0
MEMORY_CAP = 2e9  # bytes of the two Jacobians a slow gradcheck holds
ERROR = 0.01  # the wrong layer's relative error in one entry of dW
SWEEP_TOLERANCE = 1e-6
CHECKERS = ("gradelib", "full sweep", "torch slow", "torch fast")


@dataclass
class Counter:
    forward: int = 0
    backward: int = 0
    named: str | None = None  # the entry a failing gradelib check names


def _wrong_entry(W_shape) -> tuple[int, int]:
    return W_shape[0] // 3, W_shape[1] // 2


def numpy_layer(counter: Counter, *, wrong: bool):
    """The dense layer's forward and backward; ``wrong`` scales one entry of dW by 1 + ERROR."""

    def dense_forward(x, W, b):
        counter.forward += 1
        return x @ W + b, (x, W)

    def dense_backward(dout, cache):
        counter.backward += 1
        x, W = cache
        dW = x.T @ dout
        if wrong:
            dW[_wrong_entry(W.shape)] *= 1 + ERROR
        return dout @ W.T, dW, dout.sum(axis=0)

    return dense_forward, dense_backward


def torch_layer(counter: Counter, *, wrong: bool):
    """The same layer as a ``torch.autograd.Function``, so that gradcheck checks our backward."""
    import torch

    class Dense(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, W, b):
            ctx.save_for_backward(x, W)
            return x @ W + b

        @staticmethod
        def backward(ctx, dout):
            counter.backward += 1
            x, W = ctx.saved_tensors
            dW = x.T @ dout
            if wrong:
                dW[_wrong_entry(W.shape)] *= 1 + ERROR
            return dout @ W.T, dW, dout.sum(0)

    def dense(x, W, b):
        counter.forward += 1
        return Dense.apply(x, W, b)

    return dense


@dataclass
class Case:
    """One layer size: the point of the check, as numpy arrays and as torch tensors."""

    D: int
    inputs: dict
    dout: np.ndarray
    tensors: tuple | None

    @property
    def parameters(self) -> int:
        return sum(a.size for a in self.inputs.values())

    @property
    def outputs(self) -> int:
        return self.D * self.D


def make_case(D: int, *, torch_available: bool) -> Case:
    rng = np.random.default_rng(D)
    inputs = {"x": rng.standard_normal((D, D)), "W": rng.standard_normal((D, D)), "b": rng.standard_normal(D)}
    tensors = None
    if torch_available:
        import torch

        tensors = tuple(torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in inputs.values())
    return Case(D, inputs, rng.standard_normal((D, D)), tensors)


# --- the checkers: each returns whether the layer passed, counting calls in `counter` -----

def check_gradelib(case: Case, counter: Counter, *, wrong: bool) -> bool:
    forward, backward = numpy_layer(counter, wrong=wrong)
    try:
        check_layer(forward, backward, case.inputs)
    except GradientCheckError as error:
        counter.named = error.details.get("entry")
        return False
    return True


def _objective(forward, case: Case, k: int):
    values = list(case.inputs.values())

    def L(v):
        args = values.copy()
        args[k] = v
        return float(np.sum(forward(*args)[0] * case.dout))

    return L


def check_sweep(case: Case, counter: Counter, *, wrong: bool) -> bool:
    forward, backward = numpy_layer(counter, wrong=wrong)
    _, cache = forward(*case.inputs.values())
    grads = backward(case.dout, cache)
    worst = 0.0
    for k, value in enumerate(case.inputs.values()):
        num = numerical_gradient(_objective(forward, case, k), value)
        scale = max(float(np.max(np.abs(grads[k]))), float(np.max(np.abs(num))), 1e-300)
        worst = max(worst, float(np.max(np.abs(grads[k] - num))) / scale)
    return worst <= SWEEP_TOLERANCE


@contextmanager
def _fast_failures_stay_fast():
    """When fast mode fails, gradcheck recomputes both Jacobians in slow mode for its message,
    which at 1e5 parameters needs tens of GB: skip that, we only ask whether it caught the error."""
    module = sys.modules["torch.autograd.gradcheck"]
    original = module._run_slow_mode_and_get_error
    module._run_slow_mode_and_get_error = lambda *args, **kwargs: ""
    try:
        yield
    finally:
        module._run_slow_mode_and_get_error = original


def _torch_checker(fast: bool):
    def check(case: Case, counter: Counter, *, wrong: bool) -> bool:
        from torch.autograd import gradcheck

        with _fast_failures_stay_fast():
            return bool(gradcheck(torch_layer(counter, wrong=wrong), case.tensors, fast_mode=fast, raise_exception=False))

    return check


CHECK = {"gradelib": check_gradelib, "full sweep": check_sweep,
         "torch slow": _torch_checker(False), "torch fast": _torch_checker(True)}


# --- estimates for the checks too slow to run ------------------------------------------------

def _median_seconds(fn, calls: int = 5) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def estimate(case: Case, checker: str) -> dict | None:
    """Evaluations, seconds (a lower bound) and Jacobian bytes of a check, from one evaluation's cost."""
    P, M = case.parameters, case.outputs
    if checker == "full sweep":
        forward, _ = numpy_layer(Counter(), wrong=False)
        L, W = _objective(forward, case, 1), case.inputs["W"]
        return {"forward": 2 * P + 1, "backward": 1, "bytes": 0,
                "seconds": 2 * P * _median_seconds(lambda: L(W.copy()))}
    if checker == "torch slow":
        import torch

        f = torch_layer(Counter(), wrong=False)
        out = f(*case.tensors)
        onehot = torch.zeros_like(out)
        onehot[0, 0] = 1.0
        t_forward = _median_seconds(lambda: f(*case.tensors))
        t_backward = _median_seconds(lambda: torch.autograd.grad(out, case.tensors, onehot, retain_graph=True))
        # The analytical Jacobian is computed twice (gradcheck checks that backward is reentrant).
        return {"forward": 2 * P + 2, "backward": 2 * M + 2, "bytes": 2 * P * M * 8,
                "seconds": 2 * P * t_forward + 2 * M * t_backward}
    return None


# --- the benchmark ----------------------------------------------------------------------------

def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _measure(case: Case, checkers, cap: float, repeats: int) -> list[dict]:
    plans = {name: estimate(case, name) for name in checkers}
    runs = [n for n in checkers if plans[n] is None or (plans[n]["seconds"] <= cap and plans[n]["bytes"] <= MEMORY_CAP)]
    counters, passed = {}, {}

    def timed(name):
        def call():
            counters[name] = Counter()
            passed[name] = CHECK[name](case, counters[name], wrong=False)
        return call

    # A check estimated to take over a third of the cap runs once; the others `repeats` times.
    cheap = [n for n in runs if plans[n] is None or plans[n]["seconds"] * repeats <= cap]
    times = interleaved({n: timed(n) for n in cheap}, repeats=repeats, warmup=False)
    times.update(interleaved({n: timed(n) for n in runs if n not in cheap}, repeats=1, warmup=False))
    rows = []
    for name in checkers:
        row = {"parameters": case.parameters, "checker": name}
        if name in runs:
            wrong_counter = Counter()
            caught = not CHECK[name](case, wrong_counter, wrong=True)
            base = statistics.median(times["gradelib"])
            row.update({
                "forward evals": counters[name].forward, "backward calls": counters[name].backward,
                "time × gradelib": median_ratio(times, name, "gradelib") if len(times[name]) == len(times["gradelib"])
                else statistics.median(times[name]) / base,
                "passes correct layer": passed[name], "catches 1% error in one dW entry": caught,
                "forward evals, wrong layer": wrong_counter.forward,
                "_seconds": statistics.median(times[name]), "_repeats": len(times[name]),
                "_estimated_seconds": plans[name] and plans[name]["seconds"], "_named_entry": wrong_counter.named,
            })
        else:
            plan = plans[name]
            row.update({
                "forward evals": plan["forward"], "backward calls": plan["backward"],
                "time × gradelib": None, "passes correct layer": None, "catches 1% error in one dW entry": None,
                "forward evals, wrong layer": None, "_seconds": plan["seconds"], "_jacobian_bytes": plan["bytes"],
                "_repeats": 0, "estimated": ["forward evals", "backward calls", "time × gradelib"],
            })
        rows.append(row)
    base = next(r["_seconds"] for r in rows if r["checker"] == "gradelib")
    for row in rows:
        if row["time × gradelib"] is None:
            row["time × gradelib"] = row["_seconds"] / base
    return rows


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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, color in zip(CHECKERS, ("C0", "C1", "C2", "C3")):
        mine = [r for r in rows if r["checker"] == name]
        if not mine:
            continue
        for ax, key in zip(axes, ("forward evals", "_seconds")):
            P = [r["parameters"] for r in mine]
            ax.plot(P, [r[key] for r in mine], color=color, lw=1, alpha=0.5)
            real = [r for r in mine if not r.get("estimated")]
            est = [r for r in mine if r.get("estimated")]
            ax.plot([r["parameters"] for r in real], [r[key] for r in real], "o", color=color,
                    label=name if ax is axes[0] else None)
            ax.plot([r["parameters"] for r in est], [r[key] for r in est], "o", mfc="none", color=color)
    for ax, label in zip(axes, ("forward evaluations", "seconds (median)")):
        ax.set(xscale="log", yscale="log", xlabel="parameters checked (P)", ylabel=label)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_title("Evaluations per check (hollow: estimated)")
    axes[1].set_title("Wall time of a passing check (hollow: estimated)")
    axes[0].legend()
    fig.tight_layout()
    path = out_dir / "gradcheck.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]
