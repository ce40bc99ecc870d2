"""Measuring the round-off of one evaluation of the objective, rather than bounding it from sizes.

A bound such as ``eps * sum|terms|`` grows with the layer (to 12% of the signal at 1e6 float32
entries), so a real 3% error would pass under it. The actual round-off is much smaller (errors
of rounding partly cancel) and can be *seen*: evaluated at nearby points, a smooth function
lies on a low-order polynomial, and what scatters around it is round-off.

The measurement: L at 13 points 0, +-s, ..., +-6s along a random direction with relative
steps, a cubic fitted to each side (a kink at 0 enters neither), and the residuals'
root-mean-square over their 6 degrees of freedom. The same at a step 30 times smaller tells
round-off from shape: round-off does not shrink with the step, while the function's shape (a
pole or a domain edge closer than the steps) shrinks like the step's fourth power, and a
quartic explains it almost entirely. When the residuals are shape, the measurement moves on to
steps 900, 27,000 and 810,000 times smaller (still thousands of units in the last place); the
first spread that is not shape, else the smallest, is used. It costs 24 evaluations (up to 60
near a domain edge), once per check, and only when a first comparison has failed.
"""
from __future__ import annotations

import numpy as np

__all__ = ["measure_sigma"]

SHAPE = 0.02  # a quartic leaving less than this share of a cubic's residuals: shape, not noise
DROP = 10.0  # residuals this many times smaller at a 30 times smaller step: shape, not noise


def measure_sigma(objective, scales: np.ndarray, h: float, *, wider: float) -> float:
    """The standard deviation of the round-off of one evaluation of ``objective`` at its point."""
    x = objective.x
    steps = np.minimum(scales, np.where(x != 0, np.abs(x), 1e-3 * scales))
    V = np.random.default_rng(0x5EED).choice(np.array([-1.0, 1.0]), size=x.size) * steps
    found = []
    for s in (h, h / wider, h / wider**2, h / wider**3, h / wider**4):
        found.append(_residuals(objective, V, s))
        if len(found) >= 2:
            (a, quartic), (b, _) = found[-2], found[-1]
            # Round-off does not shrink with the step; shape shrinks like its fourth power.
            if np.isfinite(a) and not quartic and not b < a / DROP:
                return a
    finite = [sigma for sigma, _ in found if np.isfinite(sigma)]
    return min(finite) if finite else objective.noise


def _residuals(objective, V, s) -> tuple[float, bool]:
    """(rms residual of cubic fits on both sides, whether a quartic explains them: shape, not noise)."""
    ss3, ss4, dof = 0.0, 0.0, 0
    js = np.arange(7.0)
    for sign in (1, -1):
        ys = np.array([objective.base] + [objective.at(sign * j * s * V) for j in range(1, 7)])
        if not np.all(np.isfinite(ys)):
            return np.inf, True
        ys = ys - ys[0]
        ss3 += float(np.sum((ys - np.polyval(np.polyfit(js, ys, 3), js)) ** 2))
        ss4 += float(np.sum((ys - np.polyval(np.polyfit(js, ys, 4), js)) ** 2))
        dof += 3
    return float(np.sqrt(ss3 / dof)), ss3 > 0 and ss4 < SHAPE * ss3
