"""Tests of gradelib.numerical: the full central-difference gradient and its helpers."""
from __future__ import annotations

import numpy as np
import pytest

import gradelib
from gradelib.numerical import as_scalar, machine_eps


def test_matches_analytic_gradient(rng):
    """Does numerical_gradient agree with the exact gradient of a smooth function?"""
    A = rng.standard_normal((3, 3))
    x = rng.standard_normal(3)
    grad = gradelib.numerical_gradient(lambda v: v @ A @ v + np.sin(v).sum(), x)
    np.testing.assert_allclose(grad, (A + A.T) @ x + np.cos(x), rtol=1e-7, atol=1e-9)


def test_leaves_x_unchanged_and_computes_in_float64(rng):
    """Is x untouched, and is the result float64 even for float32 x?"""
    x = rng.standard_normal((2, 3)).astype(np.float32)
    saved = x.copy()
    seen = []
    grad = gradelib.numerical_gradient(lambda v: seen.append(v.dtype) or float(np.sum(v**2)), x)
    assert np.array_equal(x, saved) and x.dtype == np.float32
    assert grad.dtype == np.float64 and grad.shape == x.shape
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_allclose(grad, 2 * saved, rtol=1e-6)


def test_scalar_input(rng):
    """Does a 0-d input give a 0-d gradient?"""
    assert gradelib.numerical_gradient(lambda v: float(v) ** 3, np.array(2.0)) == pytest.approx(12.0)


@pytest.mark.parametrize("bad_f, message", [(lambda v: v, "single number"), (lambda v: "a", "must return a number")])
def test_non_scalar_function_is_refused(bad_f, message):
    """Is a function that does not return one number told so?"""
    with pytest.raises(TypeError, match=message):
        gradelib.numerical_gradient(bad_f, np.ones(2))


def test_bad_step_is_refused():
    """Is a non-positive h refused with a clear message?"""
    with pytest.raises(ValueError, match="positive"):
        gradelib.numerical_gradient(lambda v: 0.0, np.ones(2), h=0)


def test_machine_eps_is_the_least_precise_float():
    """Is the round-off that of the least precise floating dtype, integers ignored?"""
    assert machine_eps(np.float32) == pytest.approx(1.19e-7, rel=1e-2)
    assert machine_eps(np.float64, np.int64) == pytest.approx(2.2e-16, rel=1e-2)


def test_as_scalar_accepts_size_one_arrays():
    """Are np.float32(1), array([1.]) and 1 all numbers?"""
    assert as_scalar(np.float32(1.5)) == 1.5 and as_scalar(np.array([2.0])) == 2.0 and as_scalar(3) == 3.0
    with pytest.raises(TypeError, match="bool"):
        as_scalar(True)
