"""A learner's forward/backward pair as the checker sees it: always called on fresh copies, its
results validated, its in-place changes reported, and its objective ``sum(out * dout)``.

The learner's functions may be proxies into another process (grading): they are only ever
called, never introspected beyond ``__name__`` for messages.
"""
from __future__ import annotations

import numpy as np

from .errors import GradientCheckError, GradientCheckInconclusive
from .learner import ArraySnapshot, call, describe_entry, gradient_list
from .numerical import refuse_dtype

__all__ = ["Layer", "fname", "same_output"]

REPEAT_ROUNDOFF = 64  # differences between two runs up to this many round-offs are arithmetic, not chance


def fname(fn) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


class Layer:
    """``forward(*values) -> (out, cache)`` and ``backward(dout, cache) -> gradients``."""

    def __init__(self, forward, backward, names, values):
        self.forward, self.backward, self.names, self.values = forward, backward, names, values
        self.out_shape = None

    def run_forward(self, values, *, strict: bool = True):
        """(out, cache). At the point of the check (strict) a non-finite output is an error;
        elsewhere it is returned, for the probe to step back from."""
        args = [v.copy() for v in values]
        if strict:
            result = call(self.forward, *args, role="forward")
        else:  # a probe's step may leave the domain: NaN is an answer there, not a warning on stderr
            with np.errstate(all="ignore"):
                result = call(self.forward, *args, role="forward")
        _changed(args, values, self.names, "forward")
        if not isinstance(result, tuple) or len(result) != 2:
            got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
            raise GradientCheckError(f"{fname(self.forward)} must return (out, cache); it returned {got}.", diagnosis="type")
        out, cache = result
        if out is None or not isinstance(out, (np.ndarray, np.number, float, int)) or isinstance(out, bool):
            raise GradientCheckError(
                f"{fname(self.forward)} returned out = {type(out).__name__}; out must be a numpy array.",
                diagnosis="type" if out is not None else "none",
            )
        out = np.asarray(out)
        refused = refuse_dtype(out.dtype, f"The output of {fname(self.forward)}")
        if refused:
            raise GradientCheckError(refused, diagnosis="type")
        if self.out_shape is not None and out.shape != self.out_shape:
            raise GradientCheckError(f"{fname(self.forward)} returned outputs of different shapes for nearby inputs "
                                     f"({self.out_shape}, then {out.shape}).", diagnosis="type")
        if strict and not np.all(np.isfinite(out)):
            raise GradientCheckError(f"{fname(self.forward)} returned an output with NaN or inf at the point of the "
                                     "check; a gradient can only be checked where the function is finite.",
                                     diagnosis="nonfinite")
        self.out_shape = out.shape
        self._args = args
        return out, cache

    def run_backward(self, dout, cache):
        cached = ArraySnapshot(cache, "cache")
        dout_arg = dout.copy()
        result = call(self.backward, dout_arg, cache, role="backward")
        _changed(self._args, self.values, self.names, "backward")
        for path, i, before, now in cached.changes():
            where = f" (entry {i}: was {before:.6g}, now {now:.6g})" if i >= 0 else ""
            raise GradientCheckError(
                f"{fname(self.backward)} changed the cached array {path} in place{where}. Backward must only read "
                f"the cache: build new arrays (x * mask, not x *= mask), or copy first.",
                diagnosis="inplace", details={"where": path},
            )
        if not np.array_equal(dout_arg, dout):
            raise GradientCheckError(
                f"{fname(self.backward)} changed dout in place. The upstream gradient may be shared with other "
                f"layers: work on a copy (dx = dout.copy(); dx[x <= 0] = 0) or build a new array (dout * mask).",
                diagnosis="inplace", details={"where": "dout"},
            )
        return gradient_list(result, self.names, [v.shape for v in self.values], who=fname(self.backward))

    def gradients(self, dout, values=None):
        """Backward again, for another upstream gradient (and optionally another point)."""
        _, cache = self.run_forward(self.values if values is None else values)
        return self.run_backward(dout, cache)

    def evaluate(self, dout):
        """``values -> (sum(out * dout), root-sum-square of the terms)``; NaN where out is not finite."""
        def objective(vals):
            out = np.asarray(self.run_forward(vals, strict=False)[0], dtype=np.float64)
            terms = out * dout
            if not np.all(np.isfinite(terms)):
                return np.nan, np.nan
            return float(terms.sum()), float(np.sqrt(np.sum(terms * terms)))

        return objective


def same_output(first, second, eps: float, who: str) -> float:
    """The largest difference between two runs at the same point, if it is round-off;
    otherwise the function is not a function, and no verdict is possible."""
    first, second = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if first.shape != second.shape:
        raise GradientCheckInconclusive(
            f"{who} gave outputs of different shapes for the same inputs ({first.shape}, then {second.shape}).",
            reason="nondeterministic")
    diff = np.abs(first - second)
    size = float(np.max(np.abs(first))) if first.size else 0.0
    worst = float(np.max(diff)) if diff.size else 0.0
    if worst > REPEAT_ROUNDOFF * eps * max(size, 1e-300):
        i = int(np.argmax(diff.reshape(-1)))
        where = f" ({describe_entry('out', first.shape, i)} was {first.reshape(-1)[i]:.6g}, then {second.reshape(-1)[i]:.6g})"
        raise GradientCheckInconclusive(
            f"{who} gave different outputs for the same inputs{where}, so no gradient can be checked: it is not a "
            "function of its inputs. Seed your randomness (a np.random.default_rng(seed) made inside), or pass "
            "the dropout mask in as an argument.",
            reason="nondeterministic", details={"difference": worst})
    return worst


def _changed(args, values, names, who):
    for name, arg, original in zip(names, args, values):
        if arg.shape != original.shape or not np.array_equal(arg, original):
            diff = np.flatnonzero((arg != original).reshape(-1)) if arg.shape == original.shape else [0]
            i = int(diff[0])
            hint = (" for example by updating the weights before every delta was computed. Compute all the gradients first; "
                    "update afterwards, outside backward." if who == "backward" else ". Work on a copy or build new arrays.")
            raise GradientCheckError(
                f"{who} changed the input {name!r} in place ({describe_entry(name, original.shape, i)} was "
                f"{original.reshape(-1)[i]:.6g}, became {arg.reshape(-1)[i]:.6g}){hint}",
                input=name, diagnosis="inplace", details={"where": name, "stage": who},
            )
