"""The public checks: ``check_layer`` for a forward/backward pair, ``check_gradient`` for f and its gradient.

Both run the same verification (``_verify``): per input, three random sign directions
compared with central differences (see ``gradelib.probe`` for the method and tolerances);
a failure is explained (``gradelib.diagnose``, ``gradelib.timeaxis``) and localised to its
worst entry before it is raised as a ``GradientCheckError``. A correct gradient costs
1 + 6 per input evaluations, whatever the inputs' sizes.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from .diagnose import explain
from .errors import GradientCheckError, LowPrecisionWarning
from .learner import ArraySnapshot, call, describe_entry, gradient_list, prepare_inputs
from .numerical import as_scalar, machine_eps
from .probe import Objective, Probe
from .report import GradientReport, InputReport
from .timeaxis import time_report

__all__ = ["check_gradient", "check_layer"]

DIRECTIONS = 3  # random directions per input
RTOL = {True: 1e-6, False: 1e-3}  # keyed by "computes in float64"
# Salts the seed: a learner who draws x from default_rng(0) must not get dout == x from the
# checker's default seed 0 (x.T @ dout would then be symmetric and hide a transposed dW).
_SALT = 0x67726164


def _generator(seed: int) -> np.random.Generator:
    return np.random.default_rng([_SALT, int(seed)])
KINK_BUDGET = 400  # evaluations per input spent on resolving kinks
LOCALISE_BUDGET = 64  # evaluations spent on finding the worst entry (2 per halving)


def _learner_facing(check):
    """Raise a failed check from the public function itself: the learner's traceback ends at
    their own call, not inside gradelib (their code's own exception stays chained below)."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True
        try:
            return check(*args, **kwargs)
        except (GradientCheckError, TypeError, ValueError) as exc:
            raise exc.with_traceback(None) from exc.__cause__

    return wrapper


@_learner_facing
def check_layer(forward, backward, inputs, *, seed: int = 0, time_axis: int | None = None) -> GradientReport:
    """Check ``backward`` against numerical derivatives of ``forward``.

    Parameters
    ----------
    forward : callable
        ``forward(*inputs.values()) -> (out, cache)``, ``out`` an array of shape S.
    backward : callable
        ``backward(dout, cache)`` with ``dout`` of shape S returns the gradients of the inputs,
        in the order of ``inputs``: a tuple, or a bare array when there is one input.
    inputs : dict of str -> ndarray
        The point at which to check, by name (the names appear in messages). Never modified.
    seed : int
        Seeds the private random generator (upstream gradient and directions).
    time_axis : int, optional
        The axis of ``out`` that is time (1 for hidden states of shape (N, T, H)). A failure
        then names the time step at which the gradient stops matching.

    Returns
    -------
    GradientReport
        When every gradient matches.

    Raises
    ------
    GradientCheckError
        When one does not; the message names the input and the mistake.
    """
    __tracebackhide__ = True  # pytest: show the message, not gradelib's frames
    if not callable(forward) or not callable(backward):
        raise TypeError("check_layer(forward, backward, inputs): forward and backward must be functions.")
    names, values = prepare_inputs(inputs)
    layer = _Layer(forward, backward, names, values)
    out, cache = layer.run_forward(values)
    if time_axis is not None and not (isinstance(time_axis, (int, np.integer)) and -out.ndim <= time_axis < out.ndim):
        raise ValueError(f"time_axis={time_axis!r} is not an axis of the output, which has shape {out.shape}.")
    if time_axis is not None:
        time_axis %= out.ndim
    rng = _generator(seed)
    dout = rng.standard_normal(out.shape)
    grads = layer.run_backward(dout, cache)
    eps = machine_eps(out.dtype, *(g.dtype for g in grads))
    terms = np.asarray(out, dtype=np.float64) * dout
    objective = layer.objective(dout, eps=eps, base=(float(terms.sum()), float(np.abs(terms).sum())))
    batch = out.shape[0] if out.ndim >= 2 else None
    on_fail = None
    if time_axis is not None:
        on_fail = lambda: time_report(layer, names, values, grads, dout, time_axis=time_axis,  # noqa: E731
                                      rtol=RTOL[eps <= 1e-15], rng=_generator(seed + 1))
    return _verify(objective, names, grads, rng, batch=batch, on_fail=on_fail)


@_learner_facing
def check_gradient(f, x, grad, *, seed: int = 0, name: str = "x") -> GradientReport:
    """Check ``grad`` against numerical derivatives of the scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : ndarray of any shape (D1, ..., Dk)
        The point; never modified.
    grad : ndarray of shape (D1, ..., Dk), or callable
        The gradient of f at x, or a function ``grad(x)`` returning it.
    seed : int
        Seeds the private random generator of the directions.
    name : str
        What to call x in messages, e.g. ``"W1"`` when f is the loss as a function of W1.
    """
    __tracebackhide__ = True
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"check_gradient(..., name=...): name must be a Python identifier such as 'W1'; got {name!r}.")
    if not callable(f):
        raise TypeError(f"check_gradient(f, x, grad): f must be a function of x; got {type(f).__name__}.")
    names, values = prepare_inputs({name: x})
    dtypes = []

    def evaluate(vals):
        arg = vals[0].copy()
        value = call(f, arg, role="the function")
        if not np.array_equal(arg, vals[0]):
            raise GradientCheckError(f"{_fname(f)} changed its input {name} in place. Work on a copy of {name}.",
                                     input=name, diagnosis="inplace", details={"where": name, "stage": "f"})
        try:
            number = as_scalar(value, what=_fname(f))
        except TypeError as exc:
            raise GradientCheckError(str(exc), diagnosis="type") from None
        dtypes.append(np.asarray(value).dtype)
        return number, abs(number)

    base = evaluate(values)
    if callable(grad):
        g = call(grad, values[0].copy(), role="the gradient")
        grads = gradient_list(g, names, [values[0].shape], who=getattr(grad, "__name__", "grad"))
    else:
        grads = gradient_list(grad, names, [values[0].shape], who="grad")
    eps = machine_eps(dtypes[0], grads[0].dtype)
    objective = Objective(evaluate, values, eps, base=base, calls=1)
    return _verify(objective, names, grads, _generator(seed), batch=None, on_fail=None)


class _Layer:
    """A learner's forward/backward pair, always called on fresh copies."""

    def __init__(self, forward, backward, names, values):
        self.forward, self.backward, self.names, self.values = forward, backward, names, values

    def run_forward(self, values):
        args = [v.copy() for v in values]
        result = call(self.forward, *args, role="forward")
        _changed(args, values, self.names, "forward")
        if not isinstance(result, tuple) or len(result) != 2:
            got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
            raise GradientCheckError(
                f"{_fname(self.forward)} must return (out, cache); it returned {got}.", diagnosis="type"
            )
        out, cache = result
        if out is None or not isinstance(out, (np.ndarray, np.number, float, int)):
            raise GradientCheckError(
                f"{_fname(self.forward)} returned out = {type(out).__name__}; out must be a numpy array.",
                diagnosis="type" if out is not None else "none",
            )
        out = np.asarray(out)
        if not np.issubdtype(out.dtype, np.number) or not np.all(np.isfinite(out)):
            raise GradientCheckError(f"{_fname(self.forward)} returned an output with NaN, inf or non-numbers.",
                                     diagnosis="nonfinite")
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
                f"{_fname(self.backward)} changed the cached array {path} in place{where}. Backward must only read "
                f"the cache: build new arrays (x * mask, not x *= mask), or copy first.",
                diagnosis="inplace", details={"where": path},
            )
        if not np.array_equal(dout_arg, dout):
            raise GradientCheckError(
                f"{_fname(self.backward)} changed dout in place. The upstream gradient may be shared with other "
                f"layers: work on a copy (dx = dout.copy(); dx[x <= 0] = 0) or build a new array (dout * mask).",
                diagnosis="inplace", details={"where": "dout"},
            )
        return gradient_list(result, self.names, [v.shape for v in self.values], who=_fname(self.backward))

    def gradients(self, dout):
        """Backward again, for another upstream gradient (the time-step probe needs it)."""
        _, cache = self.run_forward(self.values)
        return self.run_backward(dout, cache)

    def objective(self, dout, *, eps: float | None = None, base=None) -> Objective:
        def evaluate(vals):
            out = np.asarray(self.run_forward(vals)[0], dtype=np.float64)
            if out.shape != dout.shape:
                raise GradientCheckError(f"{_fname(self.forward)} returned outputs of different shapes for nearby inputs.")
            terms = out * dout
            return float(terms.sum()), float(np.abs(terms).sum())

        return Objective(evaluate, self.values, eps if eps is not None else machine_eps(), base=base, calls=1)


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


def _fname(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _verify(objective: Objective, names, grads, rng, *, batch, on_fail) -> GradientReport:
    rtol = RTOL[objective.eps <= 1e-15]
    notes = []
    if objective.eps > 1e-15:
        notes.append("The function or its gradient computes in float32: the check used a larger step and a "
                     f"looser tolerance ({rtol:.0e}), so it can miss small errors.")
        warnings.warn(notes[-1], LowPrecisionWarning, stacklevel=3)
    reports = []
    for k, name in enumerate(names):
        probe = Probe(objective, k, grads[k], rtol=rtol)
        smooth, failed, worst, kinked, noisy = [], None, 0.0, 0, False
        for _ in range(DIRECTIONS):
            v = probe.signs(rng)
            res = probe.direction(v)
            noisy |= res.noisy
            if res.ok:
                smooth.append((v, res.num))
                worst = max(worst, res.rel_error)
            elif not res.kink:
                smooth.append((v, res.num))
                failed = failed or (v, res)
            else:
                failures, n_kinks, _ = probe.kink_split(v, KINK_BUDGET)
                kinked = max(kinked, n_kinks)
                if failures:
                    failed = failed or failures[0]
        if failed:
            raise _failure(probe, name, failed, smooth, batch, on_fail, rtol)
        if noisy and not notes:
            notes.append(f"The finite differences for {name} were noisy at the usual step (float32 arithmetic inside "
                         "the function, or strong curvature): the check used a larger step, so it can miss small errors.")
            warnings.warn(notes[-1], LowPrecisionWarning, stacklevel=3)
        if kinked:
            notes.append(f"{kinked} entr{'y' if kinked == 1 else 'ies'} of {name} sit on a kink (a ReLU at 0, a tie in "
                         "a max); any one-sided derivative is accepted there.")
        reports.append(InputReport(name, grads[k].shape, worst, rtol, DIRECTIONS, kinked))
    return GradientReport(tuple(reports), objective.calls, warnings=tuple(notes))


def _failure(probe: Probe, name, failed, smooth, batch, on_fail, rtol) -> GradientCheckError:
    v, res = failed
    g = probe.g
    key, sentence, details = explain(g, smooth, name=name, batch=batch)
    found = probe.localise(v, res.num - res.yours, LOCALISE_BUDGET)
    where = ""
    if found is not None:
        i, num_i = found
        entry = describe_entry(name, g.shape, i)
        where = f" Worst entry found: {entry}: yours {g.reshape(-1)[i]:.6g}, numerical {num_i:.6g}."
        details.update(entry=entry, index=tuple(int(j) for j in np.unravel_index(i, g.shape)), yours=float(g.reshape(-1)[i]),
                       numerical=num_i)
    timing = on_fail() if on_fail else None
    if timing:
        key = "time" if key == "mismatch" else key
        details.update(timing[1])
    lines = [f"The gradient for {name!r} does not match the numerical gradient.", sentence, where.strip()]
    if timing:
        lines.append(timing[0])
    lines.append(f"(Relative error {res.rel_error:.1e} along a random direction; tolerance {rtol:.0e}.)")
    message = "\n".join(line for line in lines if line)
    details.update(rel_error=res.rel_error, tolerance=rtol)
    return GradientCheckError(message, input=name, diagnosis=key, details=details)
