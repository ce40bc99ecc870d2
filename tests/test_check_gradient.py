"""Tests of gradelib.check_gradient: f and its gradient, as an array or a function."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradelib
from gradelib import GradientCheckError


def f(x):
    return float(np.sum(np.tanh(x) ** 2))


def df(x):
    t = np.tanh(x)
    return 2 * t * (1 - t**2)


@pytest.mark.parametrize("seed", range(10))
def test_right_gradient_passes_as_array_and_as_function(seed):
    """Does a right gradient pass, given either way?"""
    x = np.random.default_rng(seed).standard_normal((4, 3))
    assert gradelib.check_gradient(f, x, df(x), seed=seed).passed
    report = gradelib.check_gradient(f, x, df, seed=seed)
    assert report.evaluations == 2 + 6 + 2 + 1 and report["x"].shape == (4, 3)


@pytest.mark.parametrize(
    "grad, diagnosis",
    [
        (lambda x: -df(x), "sign"),
        (lambda x: 2 * df(x), "scale"),
        (lambda x: np.zeros_like(x), "zeros"),
        (lambda x: df(x)[:2], "shape"),
        (lambda x: None, "none"),
        (lambda x: df(x) + (np.arange(x.size).reshape(x.shape) == 5), "mismatch"),
    ],
    ids=["sign", "factor 2", "zeros", "shape", "None", "one entry"],
)
def test_wrong_gradients_are_diagnosed(grad, diagnosis, rng):
    """Does each wrong gradient fail with its diagnosis?"""
    x = rng.standard_normal((4, 3))
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_gradient(f, x, grad)
    assert info.value.diagnosis == diagnosis


def test_one_wrong_entry_is_located(rng):
    """Is the wrong entry named with its index?"""
    x = rng.standard_normal((4, 3))
    g = df(x)
    g[2, 1] += 1.0
    with pytest.raises(GradientCheckError, match=r"x\[2, 1\]"):
        gradelib.check_gradient(f, x, g)


def test_stub_function_gives_a_readable_message(rng):
    """Does a stub raising NotImplementedError read as 'not implemented yet'?"""
    def gradient(x):
        raise NotImplementedError()

    with pytest.raises(GradientCheckError, match="gradient is not implemented yet") as info:
        gradelib.check_gradient(f, rng.standard_normal(3), gradient)
    assert info.value.diagnosis == "not_implemented"


def test_function_returning_an_array_is_told_so(rng):
    """Is an f that returns a vector told to return one number?"""
    with pytest.raises(GradientCheckError, match="single number"):
        gradelib.check_gradient(np.tanh, rng.standard_normal(3), df)


def test_function_modifying_x_is_reported(rng):
    """Is an f that writes into x reported?"""
    def g(x):
        x += 1
        return float(np.sum(x))

    with pytest.raises(GradientCheckError, match="in place"):
        gradelib.check_gradient(g, rng.standard_normal(3), np.ones(3))


def test_float32_function_passes_with_a_note_and_no_warning(rng):
    """Does a float32 function pass, with a note in its report and nothing on stderr?"""
    def f32(x):
        return np.sum(np.tanh(x.astype(np.float32)) ** 2)

    x = rng.standard_normal(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = gradelib.check_gradient(f32, x, df(x).astype(np.float32))
    assert any("float32" in w for w in report.warnings)


def test_errors_are_assertion_errors(rng):
    """Can a plain `except AssertionError` (nbgrader, pytest) catch a failed check?"""
    with pytest.raises(AssertionError):
        gradelib.check_gradient(f, rng.standard_normal(3), np.zeros(3))


def test_name_labels_the_input_in_messages(rng):
    """Does name='W1' make a failure speak of W1 and dW1 rather than x?"""
    W = rng.standard_normal((3, 4))
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_gradient(lambda w: float(np.sum(w**2)), W, -2 * W, name="W1")
    assert info.value.input == "W1" and "dW1" in str(info.value)
    with pytest.raises(TypeError, match="identifier"):
        gradelib.check_gradient(lambda w: 0.0, W, W, name="not a name")
