"""Finite differences: the full central-difference gradient, and the number checks the checker uses.

``numerical_gradient`` is the textbook method: two evaluations per entry, so its cost grows
with the size of ``x``. The checker in ``gradelib.check`` uses directional derivatives
instead (see ``gradelib.probe``); both compute in float64 on copies, never on the caller's array.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["as_scalar", "machine_eps", "numerical_gradient", "refuse_dtype"]


def machine_eps(*dtypes) -> float:
    """The largest unit round-off among ``dtypes`` (float64's when none is a lower-precision float)."""
    eps = float(np.finfo(np.float64).eps)
    for dt in dtypes:
        if dt is not None and np.issubdtype(dt, np.floating):
            eps = max(eps, float(np.finfo(dt).eps))
    return eps


def refuse_dtype(dtype, what: str) -> str | None:
    """A sentence refusing ``dtype`` for ``what`` (complex, float16, non-numbers), or None if it is fine.

    float16 is refused rather than checked loosely: with 3 significant digits, a finite
    difference cannot tell a right gradient from one off by 10%.
    """
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.complexfloating):
        return f"{what} is complex ({dtype}); gradelib checks real-valued functions only."
    if dtype == np.float16:
        return (f"{what} is float16, whose 3 significant digits are too few for a finite-difference check; "
                "check the layer in float32 or float64.")
    if dtype == object or not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)
                               or dtype == np.bool_):
        return f"{what} holds {dtype} values, not numbers."
    return None


def as_scalar(value, *, what: str = "f(x)") -> float:
    """``value`` as a finite Python float, or a TypeError/ValueError that says what came back instead."""
    if value is None:
        raise TypeError(f"{what} returned None. Did you forget the `return` statement? It must return a number.")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must return a number; it returned a bool ({value!r}).")
    if isinstance(value, (complex, np.complexfloating)) or (isinstance(value, np.ndarray) and np.iscomplexobj(value)):
        raise TypeError(f"{what} returned a complex number ({value!r}); gradelib checks real-valued functions only.")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must return a number; it returned {type(value).__name__}.") from None
    if arr.size != 1:
        raise TypeError(f"{what} must return a single number; it returned an array of shape {arr.shape}.")
    number = float(arr.reshape(()))
    if not np.isfinite(number):
        raise ValueError(f"{what} returned {number} at the point of the check; it must be a finite number there.")
    return number


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
    if isinstance(h, bool) or not (isinstance(h, (int, float, np.floating)) and h > 0):
        raise ValueError(f"h must be a positive number; got {h!r}.")
    point = np.array(x, dtype=np.float64)  # a private float64 copy: the caller's x is never touched
    grad = np.zeros_like(point)
    flat, gflat = point.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = _number(f(point.copy()))
        flat[i] = old - h
        down = _number(f(point.copy()))
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad


def _number(value) -> float:
    """as_scalar, except that NaN/inf pass through: the textbook method reports them in the result."""
    try:
        return as_scalar(value)
    except ValueError:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
