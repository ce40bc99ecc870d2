"""Calling the learner's code safely, and turning what it returns (or raises) into plain words.

Every call gets fresh copies of the inputs, so the learner's own arrays are never touched;
snapshots taken around a call reveal what the call changed in place.
"""
from __future__ import annotations

import numpy as np

from .errors import GradientCheckError
from .numerical import refuse_dtype

__all__ = ["ArraySnapshot", "call", "check_seed", "describe_entry", "gradient_list", "prepare_inputs"]


def _name_of(fn) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def call(fn, *args, role: str):
    """Call learner code; its exceptions become a GradientCheckError that says so plainly.

    The original exception is chained (``raise ... from``), so its traceback stays visible
    below the message for the learner to debug.
    """
    try:
        return fn(*args)
    except NotImplementedError as exc:
        raise GradientCheckError(
            f"{_name_of(fn)} is not implemented yet: it raised NotImplementedError. "
            f"Replace the stub (`raise NotImplementedError()`) with your code, run that cell, then run this check again.",
            diagnosis="not_implemented",
            details={"function": _name_of(fn), "role": role},
        ) from exc
    except GradientCheckError:
        raise
    except Exception as exc:
        raise GradientCheckError(
            f"{_name_of(fn)} ({role}) raised {type(exc).__name__}: {exc}. "
            f"The traceback above this message shows the line in your code.",
            diagnosis="exception",
            details={"function": _name_of(fn), "role": role, "exception": type(exc).__name__},
        ) from exc


def prepare_inputs(inputs) -> tuple[list[str], list[np.ndarray]]:
    """Validate the caller's ``inputs`` dict; return names and private float64 copies."""
    if not isinstance(inputs, dict):
        raise TypeError(f"inputs must be a dict of name -> array, e.g. {{'x': x, 'W': W}}; got {type(inputs).__name__}.")
    if not inputs:
        raise ValueError("inputs is empty: nothing to check. Pass the arrays to differentiate, e.g. {'x': x, 'W': W}.")
    names, values = [], []
    for name, value in inputs.items():
        if not isinstance(name, str):
            raise TypeError(f"input names must be strings; got {name!r}.")
        values.append(_input_array(name, value))
        names.append(name)
    return names, values


def _input_array(name: str, value) -> np.ndarray:
    if isinstance(value, (list, tuple)):
        raise TypeError(f"input {name!r} is a {type(value).__name__}; pass a numpy array (np.array({name})).")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (np.ndarray, np.number, float, int)):
        raise TypeError(f"input {name!r} must be a numpy array; got {type(value).__name__}.")
    arr = np.asarray(value)
    refused = refuse_dtype(arr.dtype, f"input {name!r}")
    if refused:
        raise TypeError(refused)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_:
        raise TypeError(
            f"input {name!r} holds integers ({arr.dtype}); gradients are taken with respect to float inputs. "
            f"Pass {name}.astype(float), or bind integer data such as labels in a closure."
        )
    if arr.size == 0:
        raise ValueError(f"input {name!r} is empty (shape {arr.shape}): nothing to check.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"input {name!r} contains NaN or inf; check gradients at a finite point.")
    return np.array(arr, dtype=np.float64)


def check_seed(seed) -> int:
    """``seed`` as an int, or one sentence saying what a seed must be."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer such as 0 or 1; got {seed!r}.")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer such as 0 or 1; got {seed!r}.")
    return int(seed)


def describe_entry(name: str, shape: tuple, flat_index: int) -> str:
    """``W[3, 5]`` for flat index 3*cols + 5 of an array named W."""
    if not shape:
        return name
    idx = np.unravel_index(flat_index, shape)
    return f"{name}[{', '.join(str(int(i)) for i in idx)}]"


class ArraySnapshot:
    """Copies of every array inside a (nested) tuple/list/dict, to find in-place changes later."""

    def __init__(self, obj, label: str):
        self._items = []
        self._walk(obj, label, depth=0)

    def _walk(self, obj, path: str, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(obj, np.ndarray):
            self._items.append((path, obj, obj.copy()))
        elif isinstance(obj, (tuple, list)):
            for i, item in enumerate(obj):
                self._walk(item, f"{path}[{i}]", depth + 1)
        elif isinstance(obj, dict):
            for key, item in obj.items():
                self._walk(item, f"{path}[{key!r}]", depth + 1)

    def changes(self) -> list[tuple[str, int, float, float]]:
        """(path, flat index, value before, value now) for each array changed since the snapshot."""
        found = []
        for path, live, before in self._items:
            if live.shape != before.shape:
                found.append((path, -1, np.nan, np.nan))
                continue
            same = (live == before) | (np.isnan(live) & np.isnan(before)) if live.dtype.kind in "fc" else live == before
            if not np.all(same):
                i = int(np.flatnonzero(~np.asarray(same).reshape(-1))[0])
                found.append((path, i, float(before.reshape(-1)[i]), float(live.reshape(-1)[i])))
        return found


def gradient_list(result, names: list[str], shapes: list[tuple], *, who: str = "backward") -> list[np.ndarray]:
    """Validate what ``backward`` returned: one array per input, each of its input's shape.

    Raises a GradientCheckError naming the mistake (None, count, type, shape, NaN/inf).
    """
    listing = ", ".join(names)
    if result is None:
        raise GradientCheckError(
            f"{who} returned None. Did you forget the `return` statement? It should return "
            + (f"the gradients ({listing}), in that order." if len(names) > 1 else f"the gradient of {names[0]}."),
            diagnosis="none",
        )
    if len(names) == 1 and isinstance(result, list) and not (len(result) == 1 and isinstance(result[0], np.ndarray)):
        raise GradientCheckError(
            f"{who} returned a Python list for the one input {names[0]!r}: return one numpy array of shape "
            f"{shapes[0]}, not a list (np.array(...) turns a list into one).",
            input=names[0], diagnosis="type",
        )
    if len(names) == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    if not isinstance(result, (tuple, list)):
        raise GradientCheckError(
            f"{who} returned a single {type(result).__name__}, but there are {len(names)} inputs ({listing}): "
            f"return a tuple of {len(names)} gradients, in that order.",
            diagnosis="count",
            details={"expected": len(names), "got": 1},
        )
    if len(result) != len(names):
        raise GradientCheckError(
            f"{who} returned {len(result)} gradient{'s' if len(result) != 1 else ''}, but there "
            f"{'are' if len(names) != 1 else 'is'} {len(names)} input{'s' if len(names) != 1 else ''} ({listing}): "
            f"return one gradient per input, in that order.",
            diagnosis="count",
            details={"expected": len(names), "got": len(result)},
        )
    grads = []
    for name, shape, g in zip(names, shapes, result):
        if g is None:
            raise GradientCheckError(
                f"The gradient for {name!r} is None. Compute d{name} and return it.", input=name, diagnosis="none"
            )
        if not isinstance(g, np.ndarray) and not (shape == () and isinstance(g, (int, float, np.number))):
            raise GradientCheckError(
                f"The gradient for {name!r} is a {type(g).__name__}, not a numpy array. "
                f"Return an array of shape {shape}" + (" (np.array(...) turns a list into one)." if isinstance(g, (list, tuple)) else "."),
                input=name,
                diagnosis="type",
            )
        g = np.asarray(g)
        refused = refuse_dtype(g.dtype, f"The gradient for {name!r}")
        if refused or g.dtype == np.bool_:
            raise GradientCheckError(refused or f"The gradient for {name!r} holds booleans, not numbers.",
                                     input=name, diagnosis="type")
        if g.shape != shape:
            raise GradientCheckError(_shape_message(name, shape, g.shape), input=name, diagnosis="shape",
                                     details={"expected": shape, "got": g.shape})
        bad = ~np.isfinite(g)
        if np.any(bad):
            i = int(np.flatnonzero(bad.reshape(-1))[0])
            kind = "NaN" if np.isnan(g.reshape(-1)[i]) else "inf"
            raise GradientCheckError(
                f"The gradient for {name!r} contains {kind} ({int(bad.sum())} of {g.size} entries; the first is "
                f"{describe_entry(name, shape, i)}). Look for a division by zero, a log of 0, or an exp that overflows.",
                input=name,
                diagnosis="nonfinite",
                details={"index": np.unravel_index(i, shape), "count": int(bad.sum())},
            )
        grads.append(g)
    return grads


def _shape_message(name: str, expected: tuple, got: tuple) -> str:
    msg = f"The gradient for {name!r} has shape {got}, but {name} has shape {expected}: d{name} must have the shape of {name}."
    if len(expected) == 2 and got == expected[::-1]:
        msg += f" It is the transpose: check the order of the factors (for dW = x.T @ dout, not dout.T @ x)."
    elif int(np.prod(got)) == int(np.prod(expected)):
        msg += f" It has the right number of entries: reshape it with .reshape({expected})."
    elif len(got) == len(expected) + 1 and got[1:] == expected:
        msg += f" It keeps the batch axis: sum over axis 0 (the examples)."
    elif len(expected) == 1 and len(got) == 1:
        msg += " Did you sum over the wrong axis?"
    return msg
