"""Tests of gradelib.diagnose: naming the constant factor, the transpose, the zeros."""
from __future__ import annotations

import numpy as np
import pytest

from gradelib.diagnose import explain


def measured(true, rng, n=4):
    """(v, <true, v>, allowance) for n random sign directions: what the checker measures."""
    dirs = [rng.choice([-1.0, 1.0], size=true.shape) for _ in range(n)]
    return [(v, float(np.sum(true * v)), 1e-9) for v in dirs]


@pytest.mark.parametrize(
    "factor, batch, key, words",
    [
        (-1.0, 8, "sign", "wrong sign"),
        (8.0, 8, "scale", "8 times too large, and 8 is the batch size"),
        (1 / 8, 8, "scale", "8 times too small, and 8 is the batch size"),
        (2.0, None, "scale", "twice the right value"),
        (0.5, None, "scale", "half the right value"),
        (3.0, None, "scale", "it is 3 times the right value. If 3 is your batch size"),
        (-3.0, None, "scale", "has the wrong sign and is off by a constant factor: it is -3 times"),
        (1.7, None, "scale", "1.7 times the right value"),
    ],
)
def test_constant_factor_is_named(factor, batch, key, words, rng):
    """Is a gradient off by a constant told the constant, and what it usually means?"""
    true = rng.standard_normal((4, 5))
    got_key, sentence, details = explain(factor * true, measured(true, rng), name="W", batch=batch,
                                         follows_batch=lambda c: True)
    assert got_key == key and words in sentence
    assert details["factor"] == pytest.approx(factor, rel=1e-9)


def test_transpose_is_named(rng):
    """Is a square gradient in transposed positions recognised?"""
    true = rng.standard_normal((5, 5))
    key, sentence, _ = explain(true.T.copy(), measured(true, rng), name="Wh", batch=None)
    assert key == "transpose" and "dWh" in sentence


def test_zeros_are_named(rng):
    """Is an all-zero gradient recognised?"""
    true = rng.standard_normal(6)
    assert explain(np.zeros(6), measured(true, rng), name="b", batch=None)[0] == "zeros"


def test_unrelated_error_gets_no_false_name(rng):
    """Is a gradient wrong in an irregular way left unnamed rather than misdiagnosed?"""
    true = rng.standard_normal((4, 4))
    wrong = true + rng.standard_normal((4, 4))
    assert explain(wrong, measured(true, rng), name="W", batch=4)[0] == "mismatch"


def test_batch_size_is_named_only_when_the_factor_follows_the_batch(rng):
    """Is a factor equal to the batch size called "the batch size" only when a sub-batch confirms it?"""
    true = rng.standard_normal((2, 3))
    key, sentence, _ = explain(2 * true, measured(true, rng), name="W", batch=2, follows_batch=lambda c: False)
    assert key == "scale" and "twice the right value" in sentence and "batch" not in sentence


def test_one_direction_names_no_factor(rng):
    """Does a factor fitted to fewer than three directions go unnamed (one direction fits any factor)?"""
    true = rng.standard_normal((4, 4))
    assert explain(2.35 * true, measured(true, rng, n=1), name="W", batch=None)[0] == "mismatch"


def test_uniform_small_error_is_called_uniform(rng):
    """Is a 1.001x error in every entry described as uniform, not as one worst entry?"""
    true = rng.standard_normal((5, 5))
    key, sentence, details = explain(1.001 * true, measured(true, rng), name="W", batch=None)
    assert key == "scale" and "uniform" in sentence and details["factor"] == pytest.approx(1.001, rel=1e-9)
