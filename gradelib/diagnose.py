"""Naming the mistake: which known error explains the numbers of a failed check.

Each hypothesis is tested against every smooth direction measured (not guessed from one):
the gradient is a constant multiple of the right one (sign flip, factor 2, batch size), or
its transpose, or all zeros. A hypothesis is accepted only if it explains each direction to
within ``FIT`` relative error, which a wrong gradient of another kind does not.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FIT", "explain"]

FIT = 1e-3  # how closely a hypothesis must reproduce the numerical directional derivatives


def explain(g: np.ndarray, directions: list[tuple[np.ndarray, float]], *, name: str, batch: int | None):
    """(diagnosis key, plain sentence, details) for the failed gradient ``g`` of ``name``.

    ``directions`` holds (v, numerical directional derivative) for the smooth directions.
    """
    if not np.any(g):
        return "zeros", f"Your d{name} is all zeros, but the numerical gradient is not. Did you return an array you never filled in?", {}
    nums = np.array([num for _, num in directions])
    if nums.size == 0 or not np.any(nums):
        return "mismatch", "", {}
    yours = np.array([float(np.sum(g * v)) for v, _ in directions])
    c = float(yours @ nums / (nums @ nums))
    if abs(c - 1) > 1e-2 and _fits(c * nums, yours):
        key, sentence = _factor(c, name, batch)
        return key, sentence, {"factor": c}
    if g.ndim == 2 and g.shape[0] == g.shape[1] and not np.allclose(g, g.T):
        flipped = np.array([float(np.sum(g.T * v)) for v, _ in directions])
        if _fits(nums, flipped):
            return "transpose", (
                f"Your d{name} holds the right values in transposed positions: it is the transpose of the right "
                f"gradient. Check the order of the factors in the matrix product (for dW = x.T @ dout, not dout.T @ x)."
            ), {}
    return "mismatch", "", {}


def _fits(expected: np.ndarray, got: np.ndarray) -> bool:
    scale = max(float(np.max(np.abs(expected))), float(np.max(np.abs(got))), 1e-300)
    return bool(np.all(np.abs(expected - got) <= FIT * scale))


def _nice(c: float) -> str:
    """3.0 -> "3", 0.5 -> "1/2", otherwise three significant digits."""
    for value, text in ((round(c), str(round(c))), ):
        if value and abs(c - value) <= 1e-2 * abs(value):
            return text
    if c and abs(1 / c - round(1 / c)) <= 1e-2 * abs(round(1 / c)) and round(1 / c):
        return f"1/{round(1 / c)}"
    return f"{c:.3g}"


def _factor(c: float, name: str, batch: int | None) -> tuple[str, str]:
    mag = abs(c)
    near = lambda a, b: abs(a - b) <= 1e-2 * abs(b)  # noqa: E731 - a local comparison, named for reading
    if near(c, -1):
        return "sign", (
            f"Your d{name} has the wrong sign: every entry is minus the right value. Check the sign of the error "
            f"term (prediction - target, not target - prediction) and of each subtraction you differentiate."
        )
    sign = "has the wrong sign and " if c < 0 else ""
    if batch and batch > 1 and near(mag, batch):
        return "scale", (
            f"Your d{name} {sign}is {batch} times too large, and {batch} is the batch size: you summed over the "
            f"examples where the forward pass takes the mean. Divide by N = {batch}."
        )
    if batch and batch > 1 and near(mag, 1 / batch):
        return "scale", (
            f"Your d{name} {sign}is {batch} times too small, and {batch} is the batch size: you divided by N, "
            f"but the forward pass sums over the examples instead of averaging."
        )
    if near(mag, 2) or near(mag, 0.5):
        which = "twice the right value" if near(mag, 2) else "half the right value"
        return "scale", (
            f"Your d{name} {sign}is {which} (a factor of 2). A common cause: the derivative of 1/2 (y - t)^2 is "
            f"(y - t), and the derivative of x^2 is 2x."
        )
    hint = ""
    if mag >= 2 and near(mag, round(mag)):
        hint = f" If {round(mag)} is your batch size, you summed over the examples where you should average."
    elif mag < 1 and round(1 / mag) >= 2 and near(1 / mag, round(1 / mag)):
        hint = f" If {round(1 / mag)} is your batch size, you averaged where the forward pass sums."
    return "scale", f"Your d{name} {sign}is off by a constant factor: it is {_nice(c)} times the right value.{hint}"
