"""Finding the time step at which a recurrent layer's gradient stops matching, and naming the mistake.

Which inputs carry the time axis is decided from the layer contract, never from a size that
happens to equal T: an input is time-indexed if the caller names it (``time_inputs``) or,
by default, if it has as many axes as the output, the output's batch size on axis 0 and T on
the time axis (``x`` of shape (N, T, D) for ``h`` of shape (N, T, H)). Weights (D, H), (H, H)
and the initial state (N, H) never are, even when H, D or N equals T.

Two probes, run only once a check has already failed:

* time-indexed inputs: one random direction per time slice ``x[:, t]``, under the full
  upstream gradient;
* the others (``Wx``, ``Wh``, ``b``, ``h0``): the upstream gradient is put on one step ``s``
  at a time and backward is called again; a gradient that is exactly zero there is noted.

The patterns they tell apart:

* not carried back through time: the last step right, every earlier one wrong, weights right
  when the upstream gradient sits on step 0 alone;
* the loop skips t = 0: only step 0 wrong (at T = 2, told from the above by the weights, which
  miss step 0's term whichever step the gradient sits on);
* weights from the last step only: time-indexed inputs right, weight gradients exactly zero
  whenever the upstream gradient sits on an earlier step;
* a wrong term inside a weight's sum (h_t where h_{t-1} belongs): time-indexed inputs right,
  that weight wrong at every step, including step 0;
* dh0 wrong: everything else right.
"""
from __future__ import annotations

import numpy as np

from .probe import Objective, Probe
from .steps import entry_scales

__all__ = ["time_report", "timed_inputs"]


def timed_inputs(names, values, out_shape, time_axis: int, time_inputs=None) -> list[int]:
    """Indices of the inputs that carry the time axis (see the module docstring)."""
    if time_inputs is not None:
        return [k for k, n in enumerate(names) if n in time_inputs]
    T = out_shape[time_axis]
    return [k for k, v in enumerate(values)
            if time_axis > 0 and v.ndim == len(out_shape) and v.shape[0] == out_shape[0] and v.shape[time_axis] == T]


def _probe(objective: Objective, k: int, g: np.ndarray, rtol: float) -> Probe:
    full = np.zeros(objective.x.size)
    full[objective.segment(k)] = g.reshape(-1)
    scales = np.ones(objective.x.size)
    scales[objective.segment(k)] = entry_scales(objective.values[k]).reshape(-1)
    return Probe(objective, full, rtol=rtol, scales=scales)


def _objective(layer, dout, noise) -> Objective:
    obj = Objective(layer.evaluate(dout), layer.values, noise[0])
    obj.spread = noise[1]
    return obj


def time_report(layer, names, values, grads, dout, *, time_axis: int, timed: list[int], rtol: float, rng,
                noise=(2.2e-16, 0.0), named: bool = False) -> tuple[str, dict] | None:
    """(sentence, details) naming the failing time steps and the mistake, or None when nothing is tied to time."""
    T = dout.shape[time_axis]
    if T < 2:
        return None
    bad = {}
    full = _objective(layer, dout, noise)
    for k in timed:
        probe = _probe(full, k, grads[k], rtol)
        seg = full.segment(k)
        steps = []
        for t in range(T):
            index = [slice(None)] * values[k].ndim
            index[time_axis] = t
            mask = np.zeros(values[k].shape)
            mask[tuple(index)] = 1.0
            V = probe.signs(rng, seg)
            V[seg] *= mask.reshape(-1)
            if probe.direction(V).status == "fail":
                steps.append(t)
        if steps:
            bad[names[k]] = steps
    untimed = [k for k in range(len(values)) if k not in timed]
    zero_at = {names[k]: [] for k in untimed}
    per_step = {names[k]: [] for k in untimed}
    for s in range(T):
        index = [slice(None)] * dout.ndim
        index[time_axis] = s
        masked = np.zeros_like(dout)
        masked[tuple(index)] = dout[tuple(index)]
        objective, grads_s = _objective(layer, masked, noise), layer.gradients(masked)
        for k in untimed:
            probe = _probe(objective, k, grads_s[k], rtol)
            if probe.direction(probe.signs(rng, objective.segment(k))).status == "fail":
                per_step[names[k]].append(s)
                if not np.any(grads_s[k]):
                    zero_at[names[k]].append(s)
    bad.update({n: steps for n, steps in per_step.items() if steps})
    if not bad:
        return None
    # Per-example states such as h0: the output's shape without the time axis; weights are named W...
    state_shape = dout.shape[:time_axis] + dout.shape[time_axis + 1:]
    states = [names[k] for k in untimed if values[k].shape == state_shape and not names[k].startswith("W")]
    # Weights that multiply the hidden state: (H, ...) with H the state size.
    recurrent = [names[k] for k in untimed if values[k].ndim == 2 and values[k].shape[0] == dout.shape[-1]
                 and names[k] not in states]
    return _sentence(bad, T, [names[k] for k in timed], states, zero_at, recurrent if not named else [])


def _sentence(bad: dict, T: int, timed: list[str], states: list[str], zero_at: dict,
              recurrent: list[str] = ()) -> tuple[str, dict]:
    last = T - 1
    timed_bad = [n for n in timed if n in bad]
    headline = timed_bad or list(bad)
    first_bad = max(max(bad[n]) for n in headline)
    weights = [n for n in bad if n not in timed and n not in states]
    bad_states = [n for n in bad if n in states]
    lines = []
    for name, steps in bad.items():
        if name in timed:
            lines.append(f"d{name} is wrong at time step{'s' if len(steps) > 1 else ''} {_steps(steps)} (of 0..{last})")
        else:
            lines.append(f"d{name} is wrong when the upstream gradient sits on step {_steps(steps)} alone")
    sentence = f"Counting back from the last time step t={last}, the gradient stops matching at t={first_bad}: "
    sentence += "; ".join(lines) + "."
    key = "time"
    weights_wrong_at_0 = any(0 in bad[n] for n in weights)
    if timed_bad and all(bad[n] == [0] for n in timed_bad) and (T > 2 or weights_wrong_at_0):
        key = "time_skips_0"
        sentence += (" Only step t=0 is wrong: your backward loop never processes t = 0 (range(T - 1, 0, -1) stops "
                     "at 1; use reversed(range(T)), which ends with 0).")
    elif timed_bad and all(last not in bad[n] and bad[n] == list(range(0, max(bad[n]) + 1)) for n in timed_bad):
        key = "time_no_carry"
        sentence += (" The last step is right and the earlier ones are not: the gradient is not carried back through "
                     "time. At step t the gradient on h_t is dh[:, t] plus the dh_prev that step t+1 sends back.")
    elif not timed_bad and timed:
        right = f" d{', d'.join(timed)} {'is' if len(timed) == 1 else 'are'} right, but"
        last_only = [n for n in weights if set(range(last)) <= set(zero_at[n]) and last not in zero_at[n]]
        every = [n for n in weights if n not in last_only and bad[n] == list(range(T))]
        other = [n for n in weights if n not in last_only and n not in every]
        parts = []
        if last_only:
            key = "time_last_step_weights"
            parts.append(f" {_listed(last_only)} {'is' if len(last_only) == 1 else 'are'} exactly zero whenever the "
                         "upstream gradient sits on an earlier step: weight gradients are sums over all time steps "
                         "(dWx += x_t.T @ dz_t at every step), not the last step's alone.")
        if every:
            key = "time_wrong_term" if not last_only else key
            parts.append(f" {_listed(every)} {'is' if len(every) == 1 else 'are'} wrong at every step, step 0 "
                         "included, while the backward sweep itself is right: the term added at each step is wrong.")
            if any(n in recurrent for n in every):
                parts.append(" For a weight that multiplies the hidden state it is h_{t-1}.T @ dz_t, with the state "
                             "that entered step t; using h_t there is off by one step.")
        if other:
            parts.append(f" {_listed(other)} {'is' if len(other) == 1 else 'are'} wrong: weight gradients are sums over "
                         "all time steps of each step's term.")
        if bad_states:
            key = "time_initial_state" if not parts else key
            parts.append(f" {_listed(bad_states)} {'is' if len(bad_states) == 1 else 'are'} wrong: the gradient on the "
                         "initial state is the dh_prev that step 0 sends back, after the whole backward sweep.")
        sentence += right + "".join(parts)
    return sentence, {"time_step": first_bad, "bad_steps": {n: list(s) for n, s in bad.items()}, "time_key": key}


def _listed(names: list[str]) -> str:
    return ", ".join(f"d{n}" for n in names)


def _steps(steps: list[int]) -> str:
    if len(steps) > 2 and steps == list(range(steps[0], steps[-1] + 1)):
        return f"{steps[0]}..{steps[-1]}"
    return ", ".join(map(str, steps))
