"""The contenders of benchmark 1: one dense layer, right or with one wrong entry, and four ways to check it.

Each checker is ``check(case, counter, *, wrong) -> bool`` (did the layer pass?), counting the
forward and backward calls it makes in ``counter``. ``estimate`` predicts what the full sweep
and the slow gradcheck would cost where they are too slow to run.
"""
from __future__ import annotations

import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from gradelib import GradientCheckError, GradientCheckInconclusive, check_layer, numerical_gradient

__all__ = ["CHECK", "Case", "Counter", "estimate", "make_case"]

ERROR = 0.01  # the wrong layer's relative error in one entry of dW
SWEEP_TOLERANCE = 1e-6


@dataclass
class Counter:
    forward: int = 0
    backward: int = 0
    named: str | None = None  # the entry a failing gradelib check names
    sensitivity: float | None = None  # the smallest single-entry error of dW a passing gradelib check states it catches


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
        report = check_layer(forward, backward, case.inputs)
    except GradientCheckError as error:
        counter.named = error.details.get("entry")
        return False
    except GradientCheckInconclusive:  # no verdict: not a pass
        return False
    counter.sensitivity = report["W"].sensitivity
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
