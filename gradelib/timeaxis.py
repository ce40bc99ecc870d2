"""Finding the time step at which a recurrent layer's gradient stops matching.

Two probes, run only once a check has already failed:

* inputs that have the time axis (``x`` of shape (N, T, D)): one random direction per time
  slice ``x[:, t]``, under the full upstream gradient. Forgetting to carry the gradient back
  through time leaves the last step right and every earlier one wrong.
* inputs without it (``Wx``, ``Wh``, ``b``, ``h0``): the upstream gradient is put on one step
  ``s`` at a time and backward is called again. Weight gradients taken from the last step only
  are wrong for every ``s``, while ``dx`` stays right.
"""
from __future__ import annotations

import numpy as np

from .probe import Objective, Probe

__all__ = ["time_report"]


def time_report(layer, names, values, grads, dout, *, time_axis: int, rtol: float, rng) -> tuple[str, dict] | None:
    """(sentence, details) naming the failing time steps, or None when nothing is tied to time."""
    T = dout.shape[time_axis]
    if T < 2:
        return None
    timed = [k for k, v in enumerate(values) if v.ndim > time_axis and v.shape[time_axis] == T]
    bad = {}
    full = layer.objective(dout)
    for k in timed:
        probe = Probe(full, k, grads[k], rtol=rtol)
        steps = []
        for t in range(T):
            v = np.zeros_like(values[k])
            index = [slice(None)] * v.ndim
            index[time_axis] = t
            v[tuple(index)] = probe.signs(rng)[tuple(index)]
            res = probe.direction(v)
            if not res.ok and not res.kink:
                steps.append(t)
        if steps:
            bad[names[k]] = steps
    untimed = [k for k in range(len(values)) if k not in timed]
    if untimed:
        per_step = {names[k]: [] for k in untimed}
        for s in range(T):
            masked = np.zeros_like(dout)
            index = [slice(None)] * dout.ndim
            index[time_axis] = s
            masked[tuple(index)] = dout[tuple(index)]
            objective, grads_s = layer.objective(masked), layer.gradients(masked)
            for k in untimed:
                probe = Probe(objective, k, grads_s[k], rtol=rtol)
                res = probe.direction(probe.signs(rng))
                if not res.ok and not res.kink:
                    per_step[names[k]].append(s)
        bad.update({n: steps for n, steps in per_step.items() if steps})
    if not bad:
        return None
    batch = values[timed[0]].shape[0] if timed and time_axis > 0 else None
    states = [names[k] for k in untimed  # per-example inputs such as h0: (N, H), not shared weights
              if batch is not None and values[k].ndim >= 2 and values[k].shape[0] == batch and not names[k].startswith("W")]
    return _sentence(bad, T, [names[k] for k in timed], states)


def _sentence(bad: dict, T: int, timed: list[str], states: list[str] = ()) -> tuple[str, dict]:
    last = T - 1
    timed_bad = [n for n in timed if n in bad]
    # The headline comes from inputs that have the time axis when they fail: that is where the
    # learner sees the step directly.
    headline = timed_bad or list(bad)
    first_bad = max(max(bad[n]) for n in headline)
    groups: dict[tuple, list[str]] = {}
    for name, steps in bad.items():
        groups.setdefault((name in timed, tuple(steps)), []).append(f"d{name}")
    lines = []
    for (is_timed, steps), names in groups.items():
        who = ", ".join(names)
        verb = "is" if len(names) == 1 else "are"
        if is_timed:
            lines.append(f"{who} {verb} wrong at time step{'s' if len(steps) > 1 else ''} {_steps(list(steps))} (of 0..{last})")
        else:
            lines.append(f"{who} {verb} wrong when the upstream gradient sits on any single one of steps {_steps(list(steps))}")
    sentence = f"Counting back from the last time step t={last}, the gradient stops matching at t={first_bad}: "
    sentence += "; ".join(lines) + "."
    if timed_bad and all(last not in bad[n] and bad[n] == list(range(0, max(bad[n]) + 1)) for n in timed_bad):
        sentence += (
            " The last step is right and the earlier ones are not: the gradient is not carried back through time. "
            "At step t the gradient on h_t is dh[:, t] plus the dh_prev that step t+1 sends back."
        )
    elif not timed_bad and timed:
        right = f" d{', d'.join(timed)} {'is' if len(timed) == 1 else 'are'} right, but "
        weights = [n for n in bad if n not in states]
        bad_states = [n for n in bad if n in states]
        if weights:
            listed = ", ".join(f"d{n}" for n in weights)
            sentence += right + (
                f"{listed} {'is' if len(weights) == 1 else 'are'} not: weight gradients are sums over all time "
                "steps (dWx += x_t.T @ dz_t at every step), not the last step's alone."
            )
        if bad_states:
            listed = ", ".join(f"d{n}" for n in bad_states)
            verb = ("is" if len(bad_states) == 1 else "are") + (" wrong too" if weights else " not")
            sentence += (" " if weights else right) + (
                f"{listed} {verb}: the gradient on the initial state is the "
                "dh_prev that step 0 sends back, after the whole backward sweep."
            )
    return sentence, {"time_step": first_bad, "bad_steps": {n: list(s) for n, s in bad.items()}}


def _steps(steps: list[int]) -> str:
    if len(steps) > 2 and steps == list(range(steps[0], steps[-1] + 1)):
        return f"{steps[0]}..{steps[-1]}"
    return ", ".join(map(str, steps))
