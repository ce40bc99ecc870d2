"""The public checks: ``check_layer`` for a forward/backward pair, ``check_gradient`` for f and its gradient.

What a verdict guarantees
-------------------------
* **Determinism first.** The function is evaluated twice at the point of the check before
  anything else; outputs that differ by more than round-off end the check with
  ``GradientCheckInconclusive`` (seed the randomness, pass the dropout mask in). Round-off-sized
  differences are measured and widen the allowance.
* **A finite real objective.** None, NaN, inf, complex values, a non-scalar where a scalar
  belongs, float16 anywhere: one sentence naming what came back, never a pass.
* **Smooth functions.** Per input, three random directions, then one joint direction that moves
  all inputs together (ties stay tied); each compared within ``rtol * scale`` plus the
  *measured* error of the finite difference (``gradelib.probe``). ``rtol`` is 1e-6 in float64
  and 1e-3 when the function or its gradient is float32. The report states, per input, the
  smallest relative error in one entry of typical size that would have been caught.
* **Kinks** (``gradelib.kinks``): a value between the one-sided derivatives passes, any other
  fails when the kink is that entry's alone; what cannot be resolved within the budget makes the
  check inconclusive, never passed.
* **Diagnoses** (``gradelib.diagnose``, ``gradelib.timeaxis``) only when several directions agree.

What it does not guarantee: an error in a single entry smaller than the stated sensitivity
can pass (it is a random-projection check, not an entrywise one); errors that cancel in every
direction drawn are unlikely but possible; a kink that no probed direction crosses is not seen.

Cost, smooth and correct: 3 + 6 per input + 2 evaluations (the point three times, three
directions per input, one joint direction): 23 for x, W, b, 11 for one input, whatever the sizes.
"""
from __future__ import annotations

import functools

import numpy as np

from .errors import GradientCheckError, GradientCheckInconclusive
from .layer import Layer, fname, same_output
from .learner import call, check_seed, gradient_list, prepare_inputs
from .numerical import as_scalar, machine_eps, refuse_dtype
from .probe import Objective, Probe
from .progress import Progress
from .report import GradientReport
from .steps import entry_scales
from .timeaxis import time_report, timed_inputs
from .verify import Context, expected_calls, verify

__all__ = ["check_gradient", "check_layer"]

RTOL = {True: 1e-6, False: 1e-3}  # keyed by "computes in float64"
# Salts the seed: a learner who draws x from default_rng(0) must not get dout == x from the
# checker's default seed 0 (x.T @ dout would then be symmetric and hide a transposed dW).
_SALT = 0x67726164


def _generator(seed: int) -> np.random.Generator:
    return np.random.default_rng([_SALT, int(seed)])


def _learner_facing(check):
    """Raise a failed check from the public function itself: the learner's traceback ends at
    their own call, not inside gradelib (their code's own exception stays chained below)."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True
        try:
            return check(*args, **kwargs)
        except (GradientCheckError, GradientCheckInconclusive, TypeError, ValueError) as exc:
            raise exc.with_traceback(None) from exc.__cause__

    return wrapper


@_learner_facing
def check_layer(forward, backward, inputs, *, seed: int = 0, time_axis: int | None = None,
                time_inputs=None) -> GradientReport:
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
        A non-negative int; seeds the private random generator (upstream gradient, directions).
    time_axis : int, optional
        The axis of ``out`` that is time (1 for hidden states of shape (N, T, H)). A failure
        then names the time step at which the gradient stops matching, and the mistake.
    time_inputs : collection of str, optional
        The inputs that carry the time axis (default: those shaped like the output's batch and
        time axes, e.g. ``x`` of shape (N, T, D); never weights or ``h0``).

    Returns
    -------
    GradientReport
        When every gradient matches.

    Raises
    ------
    GradientCheckError
        When one does not; the message names the input and the mistake.
    GradientCheckInconclusive
        When no verdict is possible (a forward that is not a function, unresolvable kinks).
    """
    __tracebackhide__ = True  # pytest: show the message, not gradelib's frames
    if not callable(forward) or not callable(backward):
        raise TypeError("check_layer(forward, backward, inputs): forward and backward must be functions.")
    seed = check_seed(seed)
    if time_axis is not None and (isinstance(time_axis, (bool, np.bool_)) or not isinstance(time_axis, (int, np.integer))):
        raise TypeError(f"time_axis must be an int (the axis of the output that is time, e.g. 1), or None; got {time_axis!r}.")
    names, values = prepare_inputs(inputs)
    if time_inputs is not None:
        time_inputs = [time_inputs] if isinstance(time_inputs, str) else list(time_inputs)
        unknown = [n for n in time_inputs if n not in names]
        if unknown:
            raise ValueError(f"time_inputs names {unknown}, which are not inputs; the inputs are {names}.")
    layer = Layer(forward, backward, names, values)
    progress = Progress(fname(forward))
    out, cache = layer.run_forward(values)
    progress.first_call_done(expected_calls(len(names), base=3))
    if time_axis is not None and not -out.ndim <= time_axis < out.ndim:
        raise ValueError(f"time_axis={time_axis!r} is not an axis of the output, which has shape {out.shape}.")
    if time_axis is not None:
        time_axis %= out.ndim
    rng = _generator(seed)
    dout = rng.standard_normal(out.shape)
    grads = layer.run_backward(dout, cache)
    eps = machine_eps(out.dtype, *(g.dtype for g in grads))
    again, _ = layer.run_forward(values)
    same_output(out, again, eps, fname(forward))
    evaluate = layer.evaluate(dout)
    objective = Objective(evaluate, values, eps, base=_terms(out, dout),
                          calls=2, tick=progress.tick)
    objective.spread = abs(float(np.sum(np.asarray(again, dtype=np.float64) * dout)) - objective.base)
    rtol = RTOL[eps <= 1e-15]
    ctx = Context(notes=_precision_notes(eps))
    batch = _batch_size(out, values)
    ctx.batch = batch
    ctx.follows_batch = lambda k, c: _follows_batch(layer, k, c, batch, values, rtol, seed)
    ctx.ignores_dout = lambda: _ignores_dout(layer, dout, grads)
    if time_axis is not None:
        timed = timed_inputs(names, values, out.shape, time_axis, time_inputs)
        ctx.time_report = lambda named: time_report(layer, names, values, grads, dout, time_axis=time_axis,
                                                    timed=timed, rtol=rtol, rng=_generator(seed + 1),
                                                    noise=(eps, objective.spread), named=named)
    def recheck(times=1):
        for _ in range(times):
            same_output(out, layer.run_forward(values)[0], eps, fname(forward))

    ctx.recheck = recheck
    report = verify(objective, names, grads, rng, rtol=rtol, ctx=ctx)
    recheck()
    return GradientReport(report.inputs, report.evaluations + 1, warnings=report.warnings)


def _terms(out, dout):
    terms = np.asarray(out, dtype=np.float64) * dout
    return float(terms.sum()), float(np.sqrt(np.sum(terms * terms)))


def _precision_notes(eps: float) -> list[str]:
    if eps <= 1e-15:
        return []
    return ["The function or its gradient computes in float32: the tolerance is 1e-3, not 1e-6, and the "
            "round-off measured along each direction widens it; see 'catches' for what it can still see."]


def _batch_size(out, values) -> int | None:
    if out.ndim >= 2:
        return int(out.shape[0])
    firsts = [v.shape[0] for v in values if v.ndim >= 2]
    return int(firsts[0]) if firsts else None


def _ignores_dout(layer: Layer, dout, grads) -> bool:
    """Are the gradients unchanged when dout is replaced by another upstream gradient?"""
    other = -1.7 * dout + 0.3
    try:
        again = layer.gradients(other)
    except GradientCheckError:
        return False
    return all(np.array_equal(a, b) for a, b in zip(again, grads)) and any(np.any(g) for g in grads)


def _follows_batch(layer: Layer, k: int, c: float, batch, values, rtol, seed) -> bool:
    """Does the factor c change to c * n/N on the first n = N // 2 examples (a sum where a mean belongs)?"""
    if not batch or batch < 2:
        return False
    n = batch // 2
    sliced = [v[:n] if v.ndim >= 2 and v.shape[0] == batch else v for v in values]
    try:  # a weight that happens to have N rows is sliced too: forward then fails, and no claim is made
        sub = Layer(layer.forward, layer.backward, layer.names, sliced)
        out, cache = sub.run_forward(sliced)
        dout = _generator(seed + 2).standard_normal(out.shape)
        grads = sub.run_backward(dout, cache)
        objective = Objective(sub.evaluate(dout), sliced, machine_eps(out.dtype), base=_terms(out, dout))
    except (GradientCheckError, GradientCheckInconclusive):
        return False
    full = np.zeros(objective.x.size)
    seg = objective.segment(k)
    full[seg] = grads[k].reshape(-1)
    scales = np.ones(objective.x.size)
    scales[seg] = entry_scales(sliced[k]).reshape(-1)
    probe = Probe(objective, full, rtol=rtol, scales=scales)
    factors = []
    for _ in range(2):
        res = probe.direction(probe.signs(_generator(seed + 3), seg))
        if res.status not in ("ok", "fail") or res.num == 0:
            return False
        factors.append(res.yours / res.num)
    expected = c * n / batch if abs(c) > 1 else c * batch / n
    return all(abs(f - expected) <= 2e-2 * abs(expected) for f in factors)


@_learner_facing
def check_gradient(f, x, grad, *, seed: int = 0, name: str = "x") -> GradientReport:
    """Check ``grad`` against numerical derivatives of the scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``: a finite real number at and near ``x``.
    x : ndarray of any shape (D1, ..., Dk)
        The point; never modified.
    grad : ndarray of shape (D1, ..., Dk), or callable
        The gradient of f at x, or a function ``grad(x)`` returning it.
    seed : int
        A non-negative int; seeds the private random generator of the directions.
    name : str
        What to call x in messages, e.g. ``"W1"`` when f is the loss as a function of W1.

    Returns a ``GradientReport``; raises ``GradientCheckError`` (wrong) or
    ``GradientCheckInconclusive`` (no verdict possible), as ``check_layer`` does.
    """
    __tracebackhide__ = True
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"check_gradient(..., name=...): name must be a Python identifier such as 'W1'; got {name!r}.")
    if not callable(f):
        raise TypeError(f"check_gradient(f, x, grad): f must be a function of x; got {type(f).__name__}.")
    seed = check_seed(seed)
    names, values = prepare_inputs({name: x})
    dtypes = []

    def evaluate(vals, *, strict=False):
        arg = vals[0].copy()
        with np.errstate(**({} if strict else {"all": "ignore"})):  # NaN off the point is an answer, not a warning
            value = call(f, arg, role="the function")
        if not np.array_equal(arg, vals[0]):
            raise GradientCheckError(f"{fname(f)} changed its input {name} in place. Work on a copy of {name}.",
                                     input=name, diagnosis="inplace", details={"where": name, "stage": "f"})
        try:
            number = as_scalar(value, what=fname(f))
        except TypeError as exc:
            raise GradientCheckError(str(exc), diagnosis="none" if value is None else "type") from None
        except ValueError as exc:
            if strict:
                raise GradientCheckError(str(exc), diagnosis="nonfinite") from None
            return np.nan, np.nan
        dtypes.append(np.asarray(value).dtype)
        return number, abs(number)

    progress = Progress(fname(f))
    base = evaluate(values, strict=True)
    progress.first_call_done(expected_calls(1, base=3))
    refused = refuse_dtype(dtypes[0], f"The value of {fname(f)}")
    if refused:
        raise GradientCheckError(refused, diagnosis="type")
    again = evaluate(values, strict=True)
    eps0 = machine_eps(dtypes[0])
    same_output(base[0], again[0], eps0, fname(f))
    if callable(grad):
        g = call(grad, values[0].copy(), role="the gradient")
        grads = gradient_list(g, names, [values[0].shape], who=fname(grad))
    else:
        grads = gradient_list(grad, names, [values[0].shape], who="grad")
    eps = machine_eps(dtypes[0], grads[0].dtype)
    objective = Objective(evaluate, values, eps, base=base, calls=2, tick=progress.tick)
    objective.spread = abs(again[0] - base[0])
    rtol = RTOL[eps <= 1e-15]
    def recheck(times=1):
        for _ in range(times):
            same_output(base[0], evaluate(values, strict=True)[0], eps0, fname(f))

    report = verify(objective, names, grads, _generator(seed), rtol=rtol,
                    ctx=Context(notes=_precision_notes(eps), recheck=recheck))
    recheck()
    return GradientReport(report.inputs, report.evaluations + 1, warnings=report.warnings)
