"""Helpers for the course's test cells: every unit's tests read alike and fail in plain words.

A test cell calls the learner's function through :func:`call` (a stub or a crash becomes one
clear sentence), compares with :func:`assert_close` / :func:`assert_shape` (which say what,
where and by how much), guards inputs with :func:`not_modified`, and, when it must use an
earlier exercise, says so through :func:`prerequisite` instead of blaming itself.

Every failure is an :class:`ExerciseError`, an ``AssertionError``, so nbgrader scores the
cell 0 and the learner reads the message. Nothing here writes to stderr or warns: nbgrader
gives 0 points to a test cell with any stderr output, and a test must pass or fail by its
assertions alone.

These helpers run where the test cells run: in the learner's kernel in JupyterLab, and in
the grader's trusted interpreter during grading, where the learner's functions may be
proxies that return plain numbers and arrays. So they only call what they are given and
inspect what comes back; they never introspect the learner's code.
"""
from __future__ import annotations

import contextlib
import numbers
import warnings

import numpy as np

__all__ = [
    "ExerciseError",
    "assert_close",
    "assert_float_array",
    "assert_shape",
    "call",
    "call_strict",
    "not_modified",
    "prerequisite",
    "relies_on",
]

STUB_HINT = "replace `raise NotImplementedError()` with your code, run that cell, then this one again"


class ExerciseError(AssertionError):
    """A test cell's verdict: the learner's code does not do what the exercise asks."""


def _name(fn) -> str:
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else "your function"


def call(fn, *args, name: str | None = None, **kwargs):
    """Call a learner's function; a stub or an exception becomes one sentence naming the function.

    Inputs:
    - fn: the learner's function (or any callable)
    - args, kwargs: passed on unchanged
    - name: how to call ``fn`` in messages (default: its ``__name__``)

    Returns what ``fn`` returns. Raises ExerciseError (chained to the learner's exception, so
    the traceback below the message still shows the line in their code).
    """
    __tracebackhide__ = True
    label = name or _name(fn)
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise ExerciseError(f"{label} is not implemented yet: {STUB_HINT}.") from exc
    except ExerciseError:
        raise
    except RecursionError as exc:
        raise ExerciseError(
            f"{label} raised RecursionError: Python's recursion limit was reached. "
            "Walk the graph with an explicit stack instead of recursion."
        ) from exc
    except Exception as exc:  # the learner's bug, reported as the test's verdict
        raise ExerciseError(f"{label} raised {type(exc).__name__}: {exc}") from exc


def call_strict(fn, *args, name: str | None = None, **kwargs):
    """:func:`call`, with numpy's overflow, invalid-value and divide-by-zero warnings as failures.

    For exercises whose docstring promises "no overflow and no warning" (a stable sigmoid or
    softmax): the first such floating-point event in ``fn`` becomes one ExerciseError naming
    the function. Underflow to 0 is not an error. Returns what ``fn`` returns.
    """
    __tracebackhide__ = True
    label = name or _name(fn)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                return call(fn, *args, name=label, **kwargs)
    except ExerciseError as exc:
        cause = exc.__cause__
        if not isinstance(cause, (FloatingPointError, RuntimeWarning)):
            raise
        raise ExerciseError(
            f"{label} is not numerically stable: numpy reported '{cause}' at these inputs. "
            "Exponentiate only numbers <= 0 (e.g. exp(-|z|), or z minus its maximum), in every branch."
        ) from cause


def _pair(a, b) -> tuple[str, str]:
    """Two numbers printed with the fewest digits (at least 6) that show they differ."""
    a, b = float(a), float(b)
    for digits in range(6, 18):
        left, right = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if left != right:
            return left, right
    return repr(a), repr(b)


def _index(shape: tuple, flat: int) -> str:
    if not shape:
        return ""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def _as_numeric(value, what: str) -> np.ndarray:
    if value is None:
        raise ExerciseError(f"{what} is None: did the function forget to `return` its result?")
    if isinstance(value, (list, tuple)) and any(isinstance(v, np.ndarray) for v in value) and len(value) > 1:
        shapes = {np.shape(v) for v in value}
        if len(shapes) > 1:
            raise ExerciseError(f"{what} is a {type(value).__name__} of {len(value)} arrays; return one array.")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ExerciseError(f"{what} is not a number or an array of numbers: got {type(value).__name__}") from exc
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ExerciseError(f"{what} should hold numbers; got {type(value).__name__} with {arr.dtype} values")
    return arr


def assert_shape(value, shape: tuple, *, what: str) -> None:
    """Fail unless ``value`` has ``shape``; say whether it is the transpose or lacks a batch axis."""
    __tracebackhide__ = True
    got = np.shape(value) if value is not None else None
    if got == tuple(shape):
        return
    if value is None:
        raise ExerciseError(f"{what} is None: did the function forget to `return` its result?")
    hint = ""
    if got == tuple(shape)[::-1] and len(shape) == 2:
        hint = " It is the transpose of the expected shape: check the order of a matrix product."
    elif len(got) == len(shape) - 1 and got == tuple(shape)[1:]:
        hint = " The batch axis is missing: keep one row per example."
    elif sorted(got) == sorted(shape):
        hint = " The axes are in the wrong order."
    raise ExerciseError(f"{what} should have shape {tuple(shape)}, got {got}.{hint}")


def assert_float_array(value, *, what: str) -> np.ndarray:
    """Fail unless ``value`` is a float array (float64 or float32) of finite numbers; return it as one."""
    __tracebackhide__ = True
    arr = _as_numeric(value, what)
    if arr.dtype.kind != "f":
        raise ExerciseError(
            f"{what} should hold floats, got {arr.dtype}: an integer input must not make the result integer "
            "(convert with np.asarray(x, dtype=float) first)"
        )
    return arr


def assert_close(got, expected, *, what: str, rtol: float = 1e-7, atol: float = 1e-10, hint: str = "") -> None:
    """Fail unless ``got`` equals ``expected`` to ``rtol``/``atol``, saying where and by how much.

    Inputs:
    - got: the learner's number or array (lists and tuples are read as arrays)
    - expected: the right number or array, of the shape ``got`` must have
    - what: a few words naming the quantity, e.g. "dW" or "h[:, 2]"
    - rtol, atol: tolerances, as in ``np.isclose(got, expected, rtol, atol)``
    - hint: one thing to try, added to the message when the values differ

    Raises ExerciseError naming the shape or the worst entry: yours vs expected.
    """
    __tracebackhide__ = True
    want = np.asarray(expected, dtype=np.float64)
    arr = _as_numeric(got, what)
    assert_shape(arr, want.shape, what=what)
    mine = arr.astype(np.float64)
    if not np.all(np.isfinite(mine)):
        bad = int(np.flatnonzero(~np.isfinite(mine.reshape(-1)))[0])
        raise ExerciseError(f"{what}{_index(want.shape, bad)} is {mine.reshape(-1)[bad]}: look for an overflow "
                            f"or a division by zero. {hint}".rstrip())
    close = np.isclose(mine, want, rtol=rtol, atol=atol)
    if np.all(close):
        return
    err = np.abs(mine - want) / (atol + rtol * np.abs(want))
    worst = int(np.argmax(err.reshape(-1)))
    where = _index(want.shape, worst)
    a, b = _pair(mine.reshape(-1)[worst], want.reshape(-1)[worst])
    if want.ndim == 0:
        message = f"{what} should be {b}, got {a}"
    else:
        wrong = int(np.sum(~close))
        message = f"{what} is wrong at {wrong} of {want.size} entries; at {what}{where}: yours {a}, expected {b}"
    raise ExerciseError(f"{message}. {hint}".rstrip() if hint else message)


def _snapshot(obj, path: str, out: list, depth: int = 0) -> None:
    if depth > 4:
        return
    if isinstance(obj, np.ndarray):
        out.append((path, obj, obj.copy()))
    elif isinstance(obj, dict):
        out.append((path, obj, dict(obj)))
        for key, item in obj.items():
            _snapshot(item, f"{path}[{key!r}]", out, depth + 1)
    elif isinstance(obj, list):
        out.append((path, obj, list(obj)))
        for i, item in enumerate(obj):
            _snapshot(item, f"{path}[{i}]", out, depth + 1)
    elif isinstance(obj, tuple):
        for i, item in enumerate(obj):
            _snapshot(item, f"{path}[{i}]", out, depth + 1)


def _first_change(path: str, live, before) -> str | None:
    if isinstance(live, np.ndarray):
        if live.shape != before.shape:
            return f"{path} changed shape from {before.shape} to {live.shape}"
        same = (live == before) | (np.isnan(live) & np.isnan(before)) if live.dtype.kind in "fc" else live == before
        if np.all(same):
            return None
        i = int(np.flatnonzero(~np.asarray(same).reshape(-1))[0])
        if live.dtype.kind not in "biuf":
            return f"{path}{_index(live.shape, i)} was changed"
        was, now = _pair(before.reshape(-1)[i], live.reshape(-1)[i])
        return f"{path}{_index(live.shape, i)} was {was} and is now {now}"
    if isinstance(live, dict) and live.keys() != before.keys():
        return f"{path} gained or lost keys: {sorted(map(str, before))} became {sorted(map(str, live))}"
    if isinstance(live, dict) and any(live[k] is not before[k] for k in live):
        key = next(k for k in live if live[k] is not before[k])
        return f"{path}[{key!r}] was replaced by another object"
    if isinstance(live, list) and (len(live) != len(before) or any(a is not b for a, b in zip(live, before))):
        return f"{path} was changed (items added, removed or replaced)"
    return None


@contextlib.contextmanager
def not_modified(what: str, **inputs):
    """Fail if the code in the ``with`` block changes any of ``inputs`` in place.

    Usage::

        with not_modified("gradient", x=x):
            got = call(gradient, f, x)

    Arrays, and dicts and lists of them (to any depth up to 4), are compared entry by entry
    after the block; the message names the input, the entry, and the value before and after.
    """
    __tracebackhide__ = True
    items: list = []
    for name, value in inputs.items():
        _snapshot(value, name, items)
    yield
    for path, live, before in items:
        change = _first_change(path, live, before)
        if change:
            raise ExerciseError(
                f"{what} changed its input in place: {change}. Work on new arrays "
                "(y = x + d, or x.copy()) and leave the caller's arguments as they were."
            )


def prerequisite(exercise: str, check) -> None:
    """Run ``check()``, a quick test of an earlier exercise this test relies on.

    If it fails, this test fails saying which earlier exercise to fix first, instead of
    blaming the exercise under test. ``check`` raises (any exception) when the earlier
    exercise is wrong.
    """
    __tracebackhide__ = True
    try:
        check()
    except Exception as exc:
        reason = str(exc).split("\n")[0][:200] or type(exc).__name__
        raise ExerciseError(
            f"this test uses your {exercise}, which is not right yet ({reason}): "
            f"fix {exercise} first, then run this test again"
        ) from exc


@contextlib.contextmanager
def relies_on(exercise: str, check):
    """Blame an earlier exercise when the block fails and that exercise is wrong too.

    Usage::

        with relies_on("sigmoid", check_sigmoid):
            ...test sigmoid_prime...

    If the block raises and ``check()`` (a quick test of ``exercise``) fails as well, the
    failure reads "this test uses your sigmoid, which is not right yet (...): fix sigmoid
    first"; otherwise the block's own failure stands. Unlike :func:`prerequisite`, an
    exercise that does not use the earlier one is judged on its own.
    """
    __tracebackhide__ = True
    try:
        yield
    except Exception:
        prerequisite(exercise, check)
        raise


def is_number(value) -> bool:
    """True for Python and numpy real numbers (not bools)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
