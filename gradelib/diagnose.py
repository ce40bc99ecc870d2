"""Naming the mistake: which known error explains the numbers of a failed check.

A diagnosis is given only when the evidence supports it. Each hypothesis is tested against
every smooth direction measured (at least three; one direction fits any constant):

* a constant factor ``c`` (``yours = c * numerical`` in every direction, to within 2% of the
  mismatch plus each direction's allowance): the wrong sign (c = -1), a factor of 2, a uniform
  small error (c within 5% of 1), or the batch size, named only when the factor follows the
  batch (``follows_batch`` checks a sub-batch: summing where the mean is taken gives N/2 on
  half the batch; a constant 2 stays 2);
* the transpose of a square gradient;
* all zeros.

Anything else is a plain "mismatch", localised to its worst entry by the caller.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FIT", "MIN_DIRECTIONS", "explain"]

FIT = 2e-2  # the share of the mismatch a hypothesis may leave unexplained
MIN_DIRECTIONS = 3  # directions that must agree before a pattern is named


def explain(g: np.ndarray, directions: list[tuple], *, name: str, batch: int | None, follows_batch=None):
    """(diagnosis key, plain sentence, details) for the failed gradient ``g`` of ``name``.

    ``directions`` holds (v, numerical directional derivative, allowance) per smooth direction,
    ``v`` of the shape of ``g``. ``follows_batch(c)`` says whether a factor ``c`` close to the
    batch size (or its inverse) changes with the batch as the batch size does.
    """
    if not np.any(g):
        return "zeros", f"Your d{name} is all zeros, but the numerical gradient is not. Did you return an array you never filled in?", {}
    if len(directions) < MIN_DIRECTIONS:
        return "mismatch", "", {}
    nums = np.array([d[1] for d in directions])
    allowed = np.array([d[2] for d in directions])
    if not np.any(np.abs(nums) > allowed):
        return "mismatch", "", {}
    yours = np.array([float(np.sum(g * d[0])) for d in directions])
    c = float(yours @ nums / (nums @ nums))
    if _fits(c * nums, yours, nums, allowed) and abs(c - 1) * np.max(np.abs(nums)) > np.max(allowed):
        key, sentence = _factor(c, name, batch, follows_batch)
        return key, sentence, {"factor": c}
    if g.ndim == 2 and g.shape[0] == g.shape[1] and not np.allclose(g, g.T):
        flipped = np.array([float(np.sum(g.T * d[0])) for d in directions])
        if _fits(nums, flipped, nums, allowed):
            return "transpose", (
                f"Your d{name} holds the right values in transposed positions: it is the transpose of the right "
                f"gradient. Check the order of the factors in the matrix product (for dW = x.T @ dout, not dout.T @ x)."
            ), {}
    return "mismatch", "", {}


def _fits(expected: np.ndarray, got: np.ndarray, nums: np.ndarray, allowed: np.ndarray) -> bool:
    """Does ``expected`` explain ``got`` in every direction, up to FIT of the mismatch and the allowance?"""
    mismatch = float(np.max(np.abs(got - nums)))
    return bool(np.all(np.abs(expected - got) <= FIT * mismatch + allowed))


def _nice(c: float) -> str:
    """3.0 -> "3", 0.5 -> "1/2", otherwise three significant digits."""
    if round(c) and abs(c - round(c)) <= 1e-2 * abs(round(c)):
        return str(round(c))
    if c and round(1 / c) and abs(1 / c - round(1 / c)) <= 1e-2 * abs(round(1 / c)):
        return f"1/{round(1 / c)}"
    return f"{c:.3g}"


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-2 * abs(b)


def _factor(c: float, name: str, batch: int | None, follows_batch) -> tuple[str, str]:
    mag = abs(c)
    if _near(c, -1):
        return "sign", (
            f"Your d{name} has the wrong sign: every entry is minus the right value. Check the sign of the error "
            f"term (prediction - target, not target - prediction) and of each subtraction you differentiate."
        )
    sign = "has the wrong sign and " if c < 0 else ""
    if batch and batch > 1 and (_near(mag, batch) or _near(mag, 1 / batch)) and follows_batch is not None \
            and follows_batch(c):
        if _near(mag, batch):
            return "scale", (
                f"Your d{name} {sign}is {batch} times too large, and {batch} is the batch size (on half the batch "
                f"the factor halves too): you summed over the examples where the forward pass takes the mean. "
                f"Divide by N = {batch}."
            )
        return "scale", (
            f"Your d{name} {sign}is {batch} times too small, and {batch} is the batch size (on half the batch the "
            f"factor halves too): you divided by N, but the forward pass sums over the examples instead of averaging."
        )
    if _near(mag, 2) or _near(mag, 0.5):
        which = "twice the right value" if _near(mag, 2) else "half the right value"
        return "scale", (
            f"Your d{name} {sign}is {which} (a factor of 2). A common cause: the derivative of 1/2 (y - t)^2 is "
            f"(y - t), and the derivative of x^2 is 2x."
        )
    if abs(c - 1) < 0.05:
        return "scale", (
            f"Every entry of your d{name} is {c:.4g} times the right value: a uniform error of "
            f"{abs(c - 1) * 100:.2g}%, the same in every entry. Look for a constant that is slightly off "
            f"(a rounded number, an epsilon added where the forward pass has none)."
        )
    hint = ""
    if batch is None and mag >= 2 and _near(mag, round(mag)):
        hint = f" If {round(mag)} is your batch size, you summed over the examples where you should average."
    elif batch is None and mag < 1 and round(1 / mag) >= 2 and _near(1 / mag, round(1 / mag)):
        hint = f" If {round(1 / mag)} is your batch size, you averaged where the forward pass sums."
    return "scale", f"Your d{name} {sign}is off by a constant factor: it is {_nice(c)} times the right value.{hint}"
