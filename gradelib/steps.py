"""Step sizes that fit the function: how far each entry moves in a finite difference.

An entry moves by ``h * w_i`` along a direction, ``h = eps^(1/3)`` (6e-6 in float64, 5e-3 in
float32) and ``w_i`` its scale:

* relative to the entry itself (``w_i = |x_i|``), so that a probability of 1e-3 moves by
  6e-9, not by 6e-6: a step never leaves the domain of ``log``, ``sqrt`` or ``1/x`` by
  itself, and ``-log p`` sees the same relative step at every ``p``;
* at most the spread of the array (its standard deviation), so that logits of
  ``1000 + N(0, 1)`` move by the scale on which softmax changes (1), not by 1000;
* at least a tenth of that scale, so that entries at or near 0 (a ReLU's kink, zero biases)
  still move and a wrong gradient there still shows (an entry's sensitivity is at most ten
  times worse than a typical entry's).

When a step still leaves the domain (the function returns NaN/inf there), the probe retries
with purely relative steps, then with smaller ``h`` (see ``gradelib.probe``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["FLOOR", "entry_scales", "joint_scale"]

FLOOR = 0.1  # smallest step scale, relative to the array's spread


def _spread(x: np.ndarray) -> float:
    """The scale on which ``x`` varies: its standard deviation, else its largest magnitude, else 1."""
    spread = float(np.std(x)) if x.size > 1 else 0.0
    if not spread > 0:
        spread = float(np.max(np.abs(x))) if x.size else 0.0
    return spread if spread > 0 else 1.0


def entry_scales(x: np.ndarray) -> np.ndarray:
    """``w`` of the shape of ``x``: ``|x|`` clipped to [FLOOR * spread, spread]."""
    spread = _spread(x)
    return np.clip(np.abs(x), FLOOR * spread, spread)


def joint_scale(values: list[np.ndarray]) -> float:
    """One step scale for all inputs at once, so that equal entries (ties) stay equal when moved."""
    return min(_spread(x) for x in values)
