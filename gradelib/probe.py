"""Directional derivatives: checking a gradient at a cost that does not grow with its size.

The method
----------
For a scalar objective ``L`` (``sum(forward(...)[0] * dout)`` for a layer) and one input
``x`` with the learner's gradient ``g``, pick a random direction ``v``: a random sign per
entry (a Rademacher vector), scaled by ``max(1, |x_i|)`` so that every entry moves in
proportion to its size; the step is ``h = eps^(1/3)`` (6e-6 in float64). Compare two numbers:

* yours:      ``<g, v>``
* numerical:  ``(L(x + h v) - L(x - h v)) / (2 h)``, two evaluations of ``L``.

They agree, up to the tolerances below, for every ``v`` if and only if ``g`` is right.
A single wrong entry ``g_i = true_i + e`` shifts ``<g, v>`` by ``+-e`` (times ``|v_i| >= 1``),
so it is caught as soon as ``|e|`` stands out from the noise, however many entries there are.
Three directions per input make an unlucky cancellation of several errors negligible.

Tolerance: ``|num - yours| <= rtol * scale + noise + 4 |num(h) - num(2h)|`` where ``scale`` is
``max(|num|, |yours|, ||g * v||)``, ``rtol`` is 1e-6 in float64 (1e-3 when the function or its
gradient is float32), ``noise`` is the round-off of the objective, ``8 eps sum|out * dout| / h``,
and the last term (evaluated only when the first comparison fails) bounds truncation error by
comparing two step sizes. When those two disagree (float32 arithmetic hidden inside a function
that returns float64), the comparison is repeated with a step 1000 times larger, where that
round-off is 1000 times smaller, and the check passes with a warning if it agrees there.

Kinks: at a ReLU's zero or a tie in a max, ``L`` is not differentiable along ``v`` and the
central difference averages the two one-sided slopes, which no correct gradient convention
has to match. A kink shows in the one-sided differences ``D(h) = d+(h) - d-(h)``: for a smooth
function ``D(2h) = 2 D(h)``, at a kink ``D(2h) = D(h)``. A failing direction that crosses a kink
is therefore not a verdict: its entries are split in halves and each half is probed again,
until the smooth blocks are checked and the single entries left on kinks are accepted (any
one-sided value is a valid convention there). This costs more evaluations, but only at kinks.

Localisation: a failing smooth direction is bisected (two evaluations per halving) to the entry
with the largest error, whose numerical partial derivative is then known exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Objective", "Probe", "DirectionResult"]


class Objective:
    """The scalar function to differentiate, with one input perturbed at a time.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(values) -> (L, L_abs)``: the objective and ``sum|terms|``, its round-off scale.
    values : list of float64 arrays
        The point (never modified).
    eps : float
        The unit round-off of the function's arithmetic.
    base : (float, float), optional
        ``evaluate(values)`` when the caller has it already; ``calls`` counts the evaluations so far.
    """

    def __init__(self, evaluate, values: list[np.ndarray], eps: float, *, base=None, calls: int = 0):
        self._evaluate = evaluate
        self.values = values
        self.eps = eps
        self.calls = calls
        self.base, self.base_abs = base if base is not None else self(values)

    def __call__(self, values) -> tuple[float, float]:
        self.calls += 1
        return self._evaluate(values)

    def at(self, k: int, delta: np.ndarray) -> float:
        """L with input k moved by ``delta`` (same shape), the other inputs unchanged."""
        values = list(self.values)
        values[k] = self.values[k] + delta
        return self(values)[0]


@dataclass
class DirectionResult:
    num: float
    yours: float
    scale: float
    ok: bool
    kink: bool
    noisy: bool = False  # passed only with a larger step: the arithmetic is less precise than float64

    @property
    def rel_error(self) -> float:
        return abs(self.num - self.yours) / self.scale if self.scale > 0 else 0.0


class Probe:
    """Compares the gradient ``g`` of input ``k`` with directional derivatives of the objective."""

    def __init__(self, objective: Objective, k: int, g: np.ndarray, *, rtol: float):
        self.obj = objective
        self.k = k
        self.x = objective.values[k]
        self.g = np.asarray(g, dtype=np.float64)
        self.rtol = rtol
        # Each entry moves in proportion to its own size (at least 1): a relative step suits
        # entries of any magnitude, 1e-3 or 1e3, in the same array.
        self.weights = np.maximum(1.0, np.abs(self.x))
        self.h = objective.eps ** (1 / 3)
        # Round-off of one central difference: each evaluation is good to ~eps * sum|terms|.
        self.noise = 8 * objective.eps * max(objective.base_abs, abs(objective.base)) / self.h

    def direction(self, v: np.ndarray, gv: np.ndarray | None = None) -> DirectionResult:
        """Compare along ``v`` (zeros allowed: they restrict the direction to a block)."""
        h = self.h
        up, down = self.obj.at(self.k, h * v), self.obj.at(self.k, -h * v)
        num = (up - down) / (2 * h)
        gv = self.g * v if gv is None else gv
        yours = float(np.sum(gv))
        scale = max(abs(num), abs(yours), float(np.sqrt(np.sum(gv * gv))), 1e-300)
        if abs(num - yours) <= self.rtol * scale + self.noise:
            return DirectionResult(num, yours, scale, True, False)
        # A failure: look closer with a second step size before any verdict.
        up2, down2 = self.obj.at(self.k, 2 * h * v), self.obj.at(self.k, -2 * h * v)
        num2 = (up2 - down2) / (4 * h)
        if abs(num - num2) <= self.rtol * scale + self.noise:
            # Consistent at two steps: a smooth function (the mismatch is real) or an exact kink,
            # where a piecewise-linear function has equal central differences but one-sided
            # slopes that differ by the same amount at both steps: D(2h) = D(h), not 2 D(h).
            base = self.obj.base
            d1 = (up - base) / h - (base - down) / h
            d2 = (up2 - base) / (2 * h) - (base - down2) / (2 * h)
            jitter = 8 * self.noise
            kink = abs(d1) > jitter and abs(d2 - 2 * d1) > 0.25 * abs(d1) + jitter
            ok = abs(num - yours) <= self.rtol * scale + self.noise + 4 * abs(num - num2)
            return DirectionResult(num, yours, scale, ok, kink)
        # The two steps disagree: round-off from arithmetic less precise than the output's dtype
        # says (float32 inside a float64 function), or a kink within the step. Retry with a step
        # a thousand times larger, where that round-off is a thousand times smaller.
        big = 1000 * h
        numb = (self.obj.at(self.k, big * v) - self.obj.at(self.k, -big * v)) / (2 * big)
        numb2 = (self.obj.at(self.k, 2 * big * v) - self.obj.at(self.k, -2 * big * v)) / (4 * big)
        allowed = self.rtol * scale + (self.noise + 4 * abs(num - num2)) * h / big + 4 * abs(numb - numb2)
        if abs(numb - yours) <= allowed:
            return DirectionResult(numb, yours, scale, True, False, noisy=True)
        # Not smooth at any of these steps: treat as a kink, so the caller looks at smaller blocks.
        return DirectionResult(num, yours, scale, False, True)

    def signs(self, rng: np.random.Generator) -> np.ndarray:
        """A random direction: a sign per entry, scaled by the entry's size."""
        return rng.choice(np.array([-1.0, 1.0]), size=self.x.shape) * self.weights

    def localise(self, v: np.ndarray, mismatch: float, budget: int) -> tuple[int, float] | None:
        """Bisect a failing direction ``v`` (with ``num - yours == mismatch``) to one entry.

        The mismatch is linear in the direction, so probing one half also gives the other
        half's (the parent's minus this one's): two evaluations per halving. Follows the half
        with the larger mismatch. Returns (flat index, numerical partial derivative there),
        or None when the budget runs out first.
        """
        flat_v = v.reshape(-1)
        idx = np.flatnonzero(flat_v)
        while idx.size > 1 and budget >= 4:
            half, rest = idx[: idx.size // 2], idx[idx.size // 2 :]
            r_half = self._block_mismatch(half, flat_v, v.shape)
            budget -= 2
            r_rest = mismatch - r_half
            idx, mismatch = (half, r_half) if abs(r_half) >= abs(r_rest) else (rest, r_rest)
        if idx.size != 1 or budget < 2:
            return None
        i = int(idx[0])
        e = np.zeros(flat_v.size)
        e[i] = 1.0
        e = e.reshape(v.shape)
        h = self.h * float(self.weights.reshape(-1)[i])
        return i, float((self.obj.at(self.k, h * e) - self.obj.at(self.k, -h * e)) / (2 * h))

    def _block_mismatch(self, block: np.ndarray, flat_v: np.ndarray, shape: tuple) -> float:
        mask = np.zeros(flat_v.size)
        mask[block] = flat_v[block]
        mask = mask.reshape(shape)
        h = self.h
        num = (self.obj.at(self.k, h * mask) - self.obj.at(self.k, -h * mask)) / (2 * h)
        return num - float(np.sum(self.g * mask))

    def kink_split(self, v: np.ndarray, budget: int) -> tuple[list[np.ndarray], int, int]:
        """Probe the blocks of ``v`` until each is smooth (and checked) or a single kinked entry.

        Returns (failing smooth directions, entries accepted on kinks, evaluations left).
        """
        failures, kinked = [], 0
        stack = [np.flatnonzero(v.reshape(-1))]
        flat_v = v.reshape(-1)
        while stack:
            idx = stack.pop()
            if budget < 4:
                kinked += sum(s.size for s in stack) + idx.size  # out of budget: accept, unchecked
                break
            parts = [idx[: idx.size // 2], idx[idx.size // 2 :]] if idx.size > 1 else [idx]
            for part in parts:
                if part.size == 0:
                    continue
                mask = np.zeros(flat_v.size)
                mask[part] = flat_v[part]
                before = self.obj.calls
                res = self.direction(mask.reshape(v.shape))
                budget -= self.obj.calls - before
                if res.ok:
                    continue
                if res.kink:
                    if part.size == 1:
                        kinked += 1
                    else:
                        stack.append(part)
                else:
                    failures.append((mask.reshape(v.shape), res))
            if failures:
                break
        return failures, kinked, budget


