"""Directional derivatives: checking a gradient at a cost that does not grow with its size.

The method
----------
All inputs are seen as one flat vector ``X`` (their concatenation) and the objective ``L`` as
a scalar function of it (``sum(forward(...)[0] * dout)`` for a layer). For a direction ``V``
(zero outside the entries it moves) compare two numbers:

* yours:      ``<g, V>``, with ``g`` the learner's gradients, concatenated;
* numerical:  ``(L(X + h V) - L(X - h V)) / (2 h)``, two evaluations of ``L``.

They agree for every ``V`` if and only if ``g`` is right. A single wrong entry
``g_i = true_i + e`` shifts ``<g, V>`` by ``e V_i``, so it is caught as soon as that stands
out from the allowance below, however many entries there are. Steps fit the entries
(``gradelib.steps``): ``V_i = +-w_i``.

Allowance: ``rtol * scale + error of the finite difference``, with ``scale =
max(|num|, |yours|, ||g * V||)`` and ``rtol`` 1e-6 in float64, 1e-3 when the function or its
gradient is float32. The error of the finite difference is *measured*, not bounded from the
size of the layer. A first comparison allows only the round-off known before the check (the
spread of repeated evaluations, or ``eps`` times the root-sum-square of the objective's terms).
Only when it fails:

* the round-off of one evaluation is measured, once per check (``gradelib.roundoff``: the
  scatter of nearby evaluations around fitted cubics, ``sigma``); it enters as ``6 sigma / h``;
* ``L(X +- 2hV)`` bound the truncation error (``|num(h) - num(2h)|``, three times it) and tell a
  kink from a mismatch (below);
* before a "fail", a second step agrees: 30 times smaller when truncation limits the first
  (a kink or a pole just beside the point lies within the steps of at most one of the two),
  30 times larger when round-off does (float32 arithmetic inside a float64 function). Steps
  that disagree, or none precise to 1% of the scale, make the direction "rough": no verdict,
  it is split like a kinked one.

A step at which the function is not finite (a log of a negative number) is retried smaller;
a direction with no verdict is retried with purely relative steps (``|V_i| <= |x_i|``); a
direction that is nowhere finite is reported as such, never as a kink.

Kinks: at a ReLU's zero or a tie in a max, ``L`` is not differentiable along ``V``. The
second differences show it: ``J(h) = (L(X + hV) + L(X - hV) - 2 L(X)) / h`` grows like ``h``
for a smooth function and stays at the jump of the slope at a kink (``J(2h) = J(h)``, and
well above the measured round-off). A kinked direction is not a verdict: ``gradelib.kinks``
resolves it block by block, with the one-sided slopes measured here.

Localisation: a failing smooth direction is bisected (two evaluations per halving) to the entry
with the largest error, whose numerical partial derivative is then known.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .roundoff import measure_sigma

__all__ = ["DirectionResult", "Objective", "Probe"]

NONFINITE_RETRIES = 3  # smaller steps tried when the function is not finite at a step
WIDER = 30.0  # factor between the step sizes tried when the measured error is too large
ROUGH = 1e-2  # a measured error above this fraction of the scale decides nothing
NOISE_SIGMAS = 6.0  # allowance for round-off, in measured standard deviations of one evaluation


class Objective:
    """The scalar function to differentiate, over the concatenation of all inputs.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(values) -> (L, rss)``: the objective (NaN when the function is not finite
        there) and the root-sum-square of its terms, the scale of its round-off.
    values : list of float64 arrays
        The point (never modified).
    eps : float
        The unit round-off of the function's arithmetic.
    base : (float, float), optional
        ``evaluate(values)`` when the caller has it already; ``calls`` counts the evaluations so far.
    tick : callable, optional
        Called after every evaluation (progress for slow functions).
    """

    def __init__(self, evaluate, values: list[np.ndarray], eps: float, *, base=None, calls: int = 0, tick=None):
        self._evaluate = evaluate
        self.values = values
        self.eps = eps
        self.calls = calls
        self._tick = tick
        sizes = [v.size for v in values]
        self.bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.x = np.concatenate([v.reshape(-1) for v in values]) if values else np.zeros(0)
        self.spread = 0.0  # |L(X) - L(X)| over repeated evaluations, set by the caller
        self.base, self.rss = base if base is not None else self(values)

    def __call__(self, values) -> tuple[float, float]:
        self.calls += 1
        try:
            return self._evaluate(values)
        finally:
            if self._tick is not None:
                self._tick(self.calls)

    def segment(self, k: int) -> slice:
        return slice(int(self.bounds[k]), int(self.bounds[k + 1]))

    def owner(self, i: int) -> int:
        """The input that flat index ``i`` belongs to."""
        return int(np.searchsorted(self.bounds, i, side="right") - 1)

    def at(self, V: np.ndarray) -> float:
        """L at ``X + V`` (V flat, of the size of X)."""
        values = list(self.values)
        for k in range(len(values)):
            part = V[self.segment(k)]
            if np.any(part):
                values[k] = self.values[k] + part.reshape(self.values[k].shape)
        return self(values)[0]

    @property
    def noise(self) -> float:
        """Round-off of one evaluation, before any is measured along a direction."""
        return max(self.spread, 2 * self.eps * self.rss)


@dataclass
class DirectionResult:
    """One directional comparison. ``status`` is "ok", "fail", "kink", "rough" (no step gives a
    precise enough derivative) or "nonfinite"."""

    V: np.ndarray
    num: float
    yours: float
    scale: float
    status: str
    allowed: float  # the allowance |num - yours| was held to
    h: float = 0.0
    slopes: tuple = ()  # at a kink: (one-sided slope from below, from above), each two ways
    err: float = 0.0  # the measured error of the finite difference (0: not measured)
    noise: float = 0.0  # the part of err that is round-off
    flat: bool = False  # L(X + hV) == L(X) == L(X - hV) exactly

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def rel_error(self) -> float:
        return abs(self.num - self.yours) / self.scale if self.scale > 0 else 0.0


class Probe:
    """Compares the learner's flat gradient ``g`` with directional derivatives of the objective."""

    def __init__(self, objective: Objective, g: np.ndarray, *, rtol: float, scales: np.ndarray):
        self.obj = objective
        self.g = np.asarray(g, dtype=np.float64)
        self.rtol = rtol
        self.scales = scales  # w: each entry's step scale (gradelib.steps)
        self.h = objective.eps ** (1 / 3)
        self._sigma = None  # measured round-off of one evaluation (see sigma)

    # --- one direction ---------------------------------------------------------------------

    def direction(self, V: np.ndarray) -> DirectionResult:
        """Compare along ``V`` (zeros allowed: they restrict the direction to a block).

        When no step gives a verdict along ``V`` (the function leaves its domain, or curves
        too fast on the scale of the steps, as ``-log p`` does for p far below the others),
        the same direction is tried with purely relative steps (``|V_i| <= |x_i|``)."""
        first = self._direction(V)
        if first.status in ("ok", "fail", "kink"):
            return first
        x = self.obj.x
        relative = np.sign(V) * np.minimum(np.abs(V), np.where(x != 0, np.abs(x), 1e-3 * np.abs(V)))
        if np.array_equal(relative, V):
            return first
        second = self._direction(relative)
        return second if second.status in ("ok", "fail", "kink") else first

    def _direction(self, V: np.ndarray) -> DirectionResult:
        h = self.h
        pair = self._pair(V, h)
        if pair is None:
            for j in range(1, NONFINITE_RETRIES + 1):  # the step left the domain: smaller ones
                pair = self._pair(V, h / 10**j)
                if pair is not None:
                    h = h / 10**j
                    break
            else:
                return DirectionResult(V, np.nan, float(np.sum(self.g * V)), 1.0, "nonfinite", np.inf, h)
        gv = self.g * V
        yours = float(np.sum(gv))
        num = (pair[0] - pair[1]) / (2 * h)
        scale = max(abs(num), abs(yours), float(np.sqrt(np.sum(gv * gv))), 1e-300)
        allowed = self.rtol * scale + 2 * self.obj.noise / h
        if abs(num - yours) <= allowed:
            return DirectionResult(V, num, yours, scale, "ok", allowed, h)
        return self._closer(V, h, pair, yours, scale)

    def _pair(self, V, h):
        up, down = self.obj.at(h * V), self.obj.at(-h * V)
        return (up, down) if np.isfinite(up) and np.isfinite(down) else None

    def _closer(self, V, h, pair, yours, scale) -> DirectionResult:
        """A first comparison failed: measure the round-off, tell a kink from a mismatch, bound
        truncation, and get a second opinion at another step before any verdict.

        A kink just beside the point (closer than two steps) can make a right gradient look
        wrong at one step size; it cannot at two step sizes 30 times apart, since it lies
        within the stencil of at most one of them. So a "fail" needs two precise steps that
        agree; steps that disagree make the direction "rough", and the caller splits it.
        """
        results = []
        first = self._at_step(V, h, pair, yours, scale)
        # Round-off shrinks with larger steps, truncation with smaller ones: look where it helps.
        noisy = first is not None and first.status != "kink" and first.noise > first.err - first.noise
        ladder = (h * WIDER, h * WIDER**2) if noisy else (h / WIDER, h / WIDER**2)
        for step, r in [(h, first)] + [(step, None) for step in ladder]:
            r = r if step == h else self._at_step(V, step, None, yours, scale)
            if r is None:
                continue
            if r.status == "kink":
                return r
            precise = r.err <= ROUGH * r.scale and not self._below_resolution(r)
            if precise and r.status == "ok" and not results:
                return r
            if precise:
                results.append(r)
            if len(results) == 2:
                break
        if len(results) == 2 and all(r.status == "fail" for r in results):
            return min(results, key=lambda r: r.allowed / r.scale)
        if len(results) == 1 and results[0].status == "ok":
            return results[0]
        if not results:  # no step gives a precise derivative
            return DirectionResult(V, np.nan, yours, scale, "rough", np.inf, h, (), np.inf)
        rough = results[0]
        rough.status = "rough"  # no two precise steps agree: not smooth at this scale
        return rough

    def _below_resolution(self, r: DirectionResult) -> bool:
        """A failed comparison where not one bit of L changed, although L does change at a step
        900 times larger: the steps fall between the values the function can represent (float16
        or float32 arithmetic inside), so the difference of zero measured nothing."""
        if not (r.flat and r.status == "fail"):
            return False
        far = self._pair(r.V, r.h * WIDER**2)
        return far is None or far[0] != self.obj.base or far[1] != self.obj.base

    def _at_step(self, V, h, pair, yours, scale) -> DirectionResult | None:
        if pair is None:
            pair = self._pair(V, h)
        if pair is None:
            return None
        f = {0: self.obj.base, 1: pair[0], -1: pair[1]}
        f[2], f[-2] = self.obj.at(2 * h * V), self.obj.at(-2 * h * V)
        if not (np.isfinite(f[2]) and np.isfinite(f[-2])):
            return None
        noise = NOISE_SIGMAS * max(self.obj.noise, self.sigma()) / h
        num, num2 = (f[1] - f[-1]) / (2 * h), (f[2] - f[-2]) / (4 * h)
        scale = max(scale, abs(num))
        jump1, jump2 = (f[1] + f[-1] - 2 * f[0]) / h, (f[2] + f[-2] - 2 * f[0]) / (2 * h)
        below, above = (f[0] - f[-1]) / h, (f[1] - f[0]) / h
        below2, above2 = (f[0] - f[-2]) / (2 * h), (f[2] - f[0]) / (2 * h)
        # Richardson: the slopes' O(h) curvature term cancels in 2 s(h) - s(2h).
        slopes = (below, 2 * below - below2, above, 2 * above - above2)
        # Smooth: the second difference grows with the step (J(2h) = 2 J(h)); at a kink it stays the jump.
        if abs(jump1) > 4 * noise and abs(jump2 - jump1) <= 0.25 * abs(jump1):
            err = noise + abs(slopes[1] - below) + abs(slopes[3] - above)
            return DirectionResult(V, num, yours, scale, "kink", self.rtol * scale + err, h, slopes, err, noise)
        err = noise + abs(num - num2)  # num - num2 is three times num's truncation error
        allowed = self.rtol * scale + err
        status = "ok" if abs(num - yours) <= allowed else "fail"
        flat = f[1] == f[0] == f[-1]
        return DirectionResult(V, num, yours, scale, status, allowed, h, slopes, err, noise, flat)

    def sigma(self) -> float:
        """The measured round-off of one evaluation (``gradelib.roundoff``), measured once."""
        if self._sigma is None:
            self._sigma = measure_sigma(self.obj, self.scales, self.h, wider=WIDER)
        return self._sigma

    def signs(self, rng: np.random.Generator, support: slice) -> np.ndarray:
        """A random direction on ``support``: a sign per entry, scaled by the entry's step scale."""
        V = np.zeros(self.obj.x.size)
        n = support.stop - support.start
        V[support] = rng.choice(np.array([-1.0, 1.0]), size=n) * self.scales[support]
        return V

    # --- localisation ------------------------------------------------------------------------

    def localise(self, res: DirectionResult, budget: int) -> tuple[int, float, float] | None:
        """Bisect a failing direction to one entry: (flat index, numerical partial, its allowance).

        The mismatch is linear in the direction, so probing one half also gives the other
        half's (the parent's minus this one's): two evaluations per halving. Follows the half
        with the larger mismatch. None when the budget runs out first.
        """
        V, h = res.V, res.h
        mismatch = res.num - res.yours
        idx = np.flatnonzero(V)
        while idx.size > 1 and budget >= 4:
            half, rest = idx[: idx.size // 2], idx[idx.size // 2:]
            r_half = self._block_mismatch(half, V, h)
            budget -= 2
            if not np.isfinite(r_half):
                return None
            r_rest = mismatch - r_half
            idx, mismatch = (half, r_half) if abs(r_half) >= abs(r_rest) else (rest, r_rest)
        if idx.size != 1 or budget < 2:
            return None
        i = int(idx[0])
        E = np.zeros(V.size)
        E[i] = V[i]
        num = (self.obj.at(h * E) - self.obj.at(-h * E)) / (2 * h)
        if not np.isfinite(num):
            return None
        slope = num / V[i]
        noise = max(2 * self.obj.noise, NOISE_SIGMAS * (self._sigma or 0.0))
        allowed = self.rtol * max(abs(slope), abs(self.g[i])) + noise / (h * abs(V[i]))
        return i, float(slope), float(allowed)

    def _block_mismatch(self, block: np.ndarray, V: np.ndarray, h: float) -> float:
        mask = np.zeros(V.size)
        mask[block] = V[block]
        num = (self.obj.at(h * mask) - self.obj.at(-h * mask)) / (2 * h)
        return num - float(np.sum(self.g * mask))
