"""The verification both public checks share: directions per input, a joint direction for ties,
kinks resolved, and a verdict: a report, a ``GradientCheckError`` that says what is wrong, or a
``GradientCheckInconclusive`` that says why no verdict is possible.

Per input, ``DIRECTIONS`` random sign directions; then one direction that moves every entry of
every input by the same amount, which keeps ties tied (``max(a, b)`` at ``a == b``, tied maxima
in a max-pool): a gradient handed in full to every tied entry shows there and nowhere else.
Entries resolved on kinks are left out of the later random directions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .diagnose import MIN_DIRECTIONS, explain
from .errors import GradientCheckError, GradientCheckInconclusive
from .kinks import KinkFailure, KinkResolver
from .learner import describe_entry
from .probe import DirectionResult, Objective, Probe
from .report import GradientReport, InputReport
from .steps import entry_scales, joint_scale

__all__ = ["Context", "DIRECTIONS", "verify"]

DIRECTIONS = 3  # random directions per input
KINK_BUDGET = 2000  # evaluations a check may spend resolving kinks
LOCALISE_BUDGET = 64  # evaluations spent on finding the worst entry (2 per halving)


@dataclass
class Context:
    """What the caller knows beyond the objective, used only to explain a failure."""

    batch: int | None = None
    follows_batch: object = None  # (k, c) -> bool: does factor c follow the batch size for input k?
    ignores_dout: object = None  # () -> bool: are the gradients the same for another dout?
    time_report: object = None  # (named=bool) -> (sentence, details) or None
    recheck: object = None  # (n) -> None: evaluates the point n more times; raises if the output changed
    notes: list = field(default_factory=list)


@dataclass
class _Input:
    smooth: list = field(default_factory=list)  # (v, num, allowed) per smooth direction
    worst: float = 0.0
    sensitivity: float = 0.0
    directions: int = 0


def expected_calls(n_inputs: int, *, base: int) -> int:
    """Evaluations a passing check of a smooth function makes."""
    return base + 2 * DIRECTIONS * n_inputs + 2


def verify(objective: Objective, names, grads, rng, *, rtol: float, ctx: Context) -> GradientReport:
    g = np.concatenate([np.asarray(gk, dtype=np.float64).reshape(-1) for gk in grads])
    scales = np.concatenate([entry_scales(v).reshape(-1) for v in objective.values])
    probe = Probe(objective, g, rtol=rtol, scales=scales)
    kinks = KinkResolver(probe, rng, budget=KINK_BUDGET)
    inputs = [_Input() for _ in names]
    nonfinite = []
    for k, name in enumerate(names):
        seg = objective.segment(k)
        for _ in range(DIRECTIONS):
            V = probe.signs(rng, seg)
            V[list(kinks.checked | kinks.unresolved)] = 0.0
            if not np.any(V):
                break
            failure = _judge(probe.direction(V), k, probe, kinks, inputs, nonfinite)
            if failure is not None:
                _confirm(failure, probe, ctx)
                raise _failure(failure, probe, kinks, names, grads, inputs, rng, ctx)
    U = np.full(g.size, joint_scale(objective.values))
    failure = _judge(probe.direction(U), None, probe, kinks, inputs, nonfinite)
    if failure is not None:
        _confirm(failure, probe, ctx)
        raise _failure(failure, probe, kinks, names, grads, inputs, rng, ctx)
    if (kinks.unresolved or nonfinite) and ctx.recheck is not None:
        ctx.recheck(2)  # randomness, not kinks, may be what could not be resolved
    _inconclusive(kinks, nonfinite, objective, names)
    return _report(names, grads, inputs, kinks, objective, rtol, ctx)


def _judge(res: DirectionResult, k, probe, kinks, inputs, nonfinite):
    """Record a direction; the failure it shows (a result, a KinkFailure), or None."""
    if res.status in ("ok", "fail") and k is not None:
        rec = inputs[k]
        seg = probe.obj.segment(k)
        rec.smooth.append((res.V[seg].reshape(probe.obj.values[k].shape), res.num, res.allowed))
        rec.directions += 1
        rec.worst = max(rec.worst, res.rel_error)
        typical = float(np.sqrt(np.mean((probe.g[seg] * res.V[seg])[res.V[seg] != 0] ** 2)))
        if typical > 0:
            rec.sensitivity = max(rec.sensitivity, 2 * res.allowed / typical)
    if res.status == "ok":
        return None
    if res.status == "fail":
        return res
    if res.status == "nonfinite":
        nonfinite.append(res)
        return None
    return kinks.resolve(res)


def _confirm(found, probe: Probe, ctx: Context) -> None:
    """Before a fail: the point and the failing measurement again. A function that changes from call
    to call (randomness that happened to repeat at the start) gets "inconclusive", not a fail."""
    if ctx.recheck is not None:
        ctx.recheck(2)
    if isinstance(found, DirectionResult) and np.isfinite(found.num):
        again = (probe.obj.at(found.h * found.V) - probe.obj.at(-found.h * found.V)) / (2 * found.h)
        if abs(again - found.num) > found.allowed:  # a deterministic function repeats itself bit for bit
            raise GradientCheckInconclusive(
                f"The same finite difference gave {found.num:.6g}, then {again:.6g}: the function is not a function "
                "of its inputs (it changes from call to call), so no gradient can be checked. Seed your randomness, "
                "or pass the dropout mask in as an argument.", reason="nondeterministic")


def _owners(probe, V) -> list[int]:
    return sorted({probe.obj.owner(int(i)) for i in np.flatnonzero(V)})


def _failure(found, probe: Probe, kinks, names, grads, inputs, rng, ctx: Context) -> GradientCheckError:
    obj = probe.obj
    if isinstance(found, KinkFailure):
        k = obj.owner(found.index)
        entry = describe_entry(names[k], grads[k].shape, found.index - obj.segment(k).start)
        return GradientCheckError(
            f"The gradient for {names[k]!r} does not match at a kink.\nAt {entry} the function has a kink (a ReLU at 0, "
            f"a max): its one-sided derivatives there are {found.low:.6g} and {found.high:.6g}, so any value between "
            f"them is right, but yours is {found.yours:.6g}. At a kink, use the derivative of one side (for ReLU, "
            f"0 or 1 times dout).", input=names[k], diagnosis="kink",
            details={"entry": entry, "yours": found.yours, "low": found.low, "high": found.high})
    owners = _owners(probe, found.V)
    if len(owners) > 1:
        for k in owners:  # one input's share of the joint direction may be wrong on its own: no tie then
            part = np.zeros(found.V.size)
            part[obj.segment(k)] = found.V[obj.segment(k)]
            alone = probe.direction(part)
            if alone.status == "fail":
                found, owners = alone, [k]
                break
    if len(owners) > 1:
        listing = ", ".join(f"d{names[k]}" for k in owners)
        if np.unique(obj.x).size == obj.x.size:  # no two entries are equal: nothing ties, so say no more than seen
            return GradientCheckError(
                f"The gradients for {', '.join(repr(names[k]) for k in owners)} do not match the numerical gradient: "
                f"moving every entry of every input by the same amount gives {found.num:.6g} numerically and "
                f"{found.yours:.6g} from your {listing}.\n"
                f"(Relative error {found.rel_error:.1e}; tolerance {probe.rtol:.0e}.)",
                input=names[owners[0]], diagnosis="mismatch", details={"inputs": [names[k] for k in owners]})
        return GradientCheckError(
            f"The gradients for {', '.join(repr(names[k]) for k in owners)} do not match the numerical gradient "
            f"when all of them move together.\nEach input alone looks right, but moving every entry by the same "
            f"amount, which keeps ties tied, gives {found.num:.6g} numerically and {found.yours:.6g} from your "
            f"{listing}. At a tie (max(a, b) with a == b, equal maxima in a pooling window) the gradient must go to "
            f"one of the tied entries (or be split between them), not to each of them in full.\n"
            f"(Relative error {found.rel_error:.1e}; tolerance {probe.rtol:.0e}.)",
            input=names[owners[0]], diagnosis="tie", details={"inputs": [names[k] for k in owners]})
    k = owners[0]
    name, seg, shape = names[k], obj.segment(k), grads[k].shape
    _more_directions(probe, k, kinks, inputs[k], rng)
    key, sentence, details = "mismatch", "", {}
    if ctx.ignores_dout is not None and ctx.ignores_dout():
        key, sentence = "ignores_dout", (
            f"Your backward returns the same d{name} whatever the upstream gradient dout is: it ignores dout. "
            f"Multiply by dout (the chain rule): for a loss, dout is dL/dloss, 1 at the top but not in general.")
    else:
        follows = (lambda c: ctx.follows_batch(k, c)) if ctx.follows_batch is not None else None
        key, sentence, details = explain(np.asarray(grads[k], dtype=np.float64), inputs[k].smooth, name=name,
                                         batch=ctx.batch, follows_batch=follows)
    lines = [f"The gradient for {name!r} does not match the numerical gradient.", sentence]
    if key == "mismatch":
        located = probe.localise(found, LOCALISE_BUDGET)
        if located is not None:
            i, num_i, allowed_i = located
            yours_i = float(probe.g[i])
            if abs(yours_i - num_i) > allowed_i:
                entry = describe_entry(name, shape, i - seg.start)
                lines.append(f"Worst entry found: {entry}: yours {yours_i:.6g}, numerical {num_i:.6g}.")
                details.update(entry=entry, index=tuple(int(j) for j in np.unravel_index(i - seg.start, shape)),
                               yours=yours_i, numerical=num_i)
    timing = ctx.time_report(named=key != "mismatch") if ctx.time_report else None
    if timing:
        key = "time" if key == "mismatch" else key
        details.update(timing[1])
        lines.append(timing[0])
    lines.append(f"(Relative error {found.rel_error:.1e} along a random direction; tolerance {probe.rtol:.0e}.)")
    details.update(rel_error=found.rel_error, tolerance=probe.rtol)
    return GradientCheckError("\n".join(line for line in lines if line), input=name, diagnosis=key, details=details)


def _more_directions(probe: Probe, k: int, kinks, rec: _Input, rng) -> None:
    """Measure smooth directions until a pattern has MIN_DIRECTIONS + 1 to agree on (failures only)."""
    seg = probe.obj.segment(k)
    for _ in range(2 * MIN_DIRECTIONS):
        if len(rec.smooth) > MIN_DIRECTIONS:
            return
        V = probe.signs(rng, seg)
        V[list(kinks.checked | kinks.unresolved)] = 0.0
        if not np.any(V):
            return
        res = probe.direction(V)
        if res.status in ("ok", "fail"):
            rec.smooth.append((res.V[seg].reshape(probe.obj.values[k].shape), res.num, res.allowed))


def _inconclusive(kinks: KinkResolver, nonfinite, objective: Objective, names) -> None:
    if kinks.unresolved and not kinks.kinks_seen and not kinks.checked:
        owners = sorted({names[objective.owner(i)] for i in kinks.unresolved})
        raise GradientCheckInconclusive(
            f"Cannot tell whether the gradient is right: for {len(kinks.unresolved)} entries of {', '.join(owners)} no "
            "step size gives a finite difference precise to 1%: the function's output changes in jumps, or by "
            "round-off larger than its change. This happens when it computes with fewer digits than its dtype "
            "shows (float16 inside a float64 function) or quantises its output. Compute in float32 or float64.",
            reason="noise", input=owners[0], details={"unresolved": len(kinks.unresolved)})
    if kinks.unresolved:
        per = {}
        for i in kinks.unresolved:
            per.setdefault(names[objective.owner(i)], []).append(i)
        where = "; ".join(f"{len(v)} of {n}" for n, v in per.items())
        raise GradientCheckInconclusive(
            f"Cannot tell whether the gradient is right: {len(kinks.unresolved)} entries could not be checked "
            f"({where}): they sit on kinks or ties, or share a block with them, and finite differences could not "
            f"resolve them within {KINK_BUDGET} evaluations ({len(kinks.checked)} entries on kinks were checked). "
            "This happens with many exact zeros (a ReLU of ReLU outputs), ties, or a whole column of pre-activations "
            "at exactly 0 (zero weights and biases). Check at a generic point: random weights, or inputs plus small "
            "noise (x + 1e-3 * rng.standard_normal(x.shape)).",
            reason="kinks", input=next(iter(per)), details={"unresolved": len(kinks.unresolved)})
    if nonfinite:
        owners = sorted({names[objective.owner(int(i))] for r in nonfinite for i in np.flatnonzero(r.V)})
        raise GradientCheckInconclusive(
            f"Cannot tell whether the gradient is right: the function returns NaN or inf arbitrarily close to the "
            f"point when {', '.join(owners)} move{'s' if len(owners) == 1 else ''}, even with steps 1000 times "
            "smaller than usual. Check at a point inside the domain (away from log(0), division by zero, sqrt of "
            "negative numbers).", reason="nonfinite", input=owners[0])


def _report(names, grads, inputs, kinks, objective, rtol, ctx) -> GradientReport:
    reports, notes = [], list(ctx.notes)
    for k, name in enumerate(names):
        seg = objective.segment(k)
        rough = sum(1 for i in kinks.rough if seg.start <= i < seg.stop)
        kinked = sum(1 for i in kinks.checked if seg.start <= i < seg.stop) - rough
        rec = inputs[k]
        reports.append(InputReport(name, tuple(grads[k].shape), rec.worst, rtol, rec.directions, kinked,
                                   rec.sensitivity or None))
        if kinked:
            notes.append(f"{kinked} entr{'y' if kinked == 1 else 'ies'} of {name} sit on a kink (a ReLU at 0, a tie in "
                         "a max): there, a value between the two one-sided derivatives is accepted.")
        if rough:
            notes.append(f"{rough} entr{'y' if rough == 1 else 'ies'} of {name} are not smooth at any step tried "
                         "(a kink or a pole closer than the steps, or heavy round-off): checked only loosely, "
                         "against the one-sided derivatives and the measured error.")
    return GradientReport(tuple(reports), objective.calls, warnings=tuple(notes))
