"""Finite differences: the full central-difference gradient, and the step sizes the checker uses.

``numerical_gradient`` is the textbook method: two evaluations per entry, so its cost grows
with the size of ``x``. The checker in ``gradelib.check`` uses directional derivatives
instead (see ``gradelib.probe``); both compute in float64 on copies, never on the caller's array.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["as_scalar", "machine_eps", "numerical_gradient"]


def machine_eps(*dtypes) -> float:
    """The largest unit round-off among ``dtypes`` (float64's when none is a lower-precision float)."""
    eps = float(np.finfo(np.float64).eps)
    for dt in dtypes:
        if dt is not None and np.issubdtype(dt, np.floating):
            eps = max(eps, float(np.finfo(dt).eps))
    return eps


def as_scalar(value, *, what: str = "f(x)") -> float:
    """``value`` as a Python float, or a TypeError that says what came back instead."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must return a number; it returned a bool ({value!r}).")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must return a number; it returned {type(value).__name__}.") from None
    if arr.size != 1:
        raise TypeError(f"{what} must return a single number; it returned an array of shape {arr.shape}.")
    return float(arr.reshape(()))


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a scalar function of an array.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, a scalar function of an array of the shape of ``x``.
    x : array_like, of any shape (D1, ..., Dk)
        The point. It is copied to float64 and never modified.
    h : float
        The step: ``(f(x + h e_i) - f(x - h e_i)) / (2 h)`` for each entry i.

    Returns
    -------
    grad : ndarray of shape (D1, ..., Dk), float64
        The approximate gradient; 2 * x.size evaluations of ``f``.
    """
    if not callable(f):
        raise TypeError(f"f must be a function of x; got {type(f).__name__}.")
    if not (isinstance(h, (int, float, np.floating)) and h > 0):
        raise ValueError(f"h must be a positive number; got {h!r}.")
    point = np.array(x, dtype=np.float64)  # a private float64 copy: the caller's x is never touched
    grad = np.zeros_like(point)
    flat, gflat = point.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = as_scalar(f(point.copy()))
        flat[i] = old - h
        down = as_scalar(f(point.copy()))
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad
