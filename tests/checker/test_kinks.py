"""At kinks: is every valid convention accepted (any value between the one-sided derivatives, ties
split any way), is the count of kinked entries true, and does a large kinked layer end inconclusive
rather than passed?"""
from __future__ import annotations

import numpy as np
import pytest

import gradelib
from tests.checker import correct as C


def _relu_x(rng, zeros=0.4, shape=(4, 6)):
    x = rng.standard_normal(shape)
    x[rng.random(shape) < zeros] = 0.0
    return x


def _max_ab(rng):
    a = rng.standard_normal((3, 4))
    return a, np.where(rng.random(a.shape) < 0.5, a, rng.standard_normal(a.shape))


def _pool_split(dout, c):
    """Each window's gradient split evenly among its tied maxima (autograd's convention)."""
    x = c[0]
    up = np.repeat(np.repeat(C.maxpool(x), 2, axis=2), 2, axis=3)
    ties = x == up
    N, Cn, H, W = x.shape
    count = ties.reshape(N, Cn, H // 2, 2, W // 2, 2).sum(axis=(3, 5))
    share = np.repeat(np.repeat(dout / count, 2, axis=2), 2, axis=3)
    return share * ties


CONVENTIONS = {
    "ReLU, derivative 1 at 0": (C.relu, lambda dout, c: dout * (c[0] >= 0), lambda r: {"x": _relu_x(r)}),
    "ReLU, derivative 0.5 at 0": (C.relu, lambda dout, c: dout * np.where(c[0] == 0, 0.5, c[0] > 0), lambda r: {"x": _relu_x(r)}),
    "max-pool, ties split evenly": (C.maxpool, _pool_split, lambda r: {"x": r.integers(0, 3, (2, 2, 4, 4)).astype(float)}),
    "max(a, b), ties to a": (np.maximum, lambda dout, c: (dout * (c[0] >= c[1]), dout * (c[1] > c[0])),
                             lambda r: dict(zip("ab", _max_ab(r)))),
    "max(a, b), ties split": (np.maximum, lambda dout, c: (dout * np.where(c[0] == c[1], 0.5, c[0] > c[1]),
                                                            dout * np.where(c[0] == c[1], 0.5, c[1] > c[0])),
                              lambda r: dict(zip("ab", _max_ab(r)))),
}


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("name", list(CONVENTIONS), ids=str)
def test_valid_convention_at_kinks_passes(name, seed):
    """Does every valid convention at a kink or tie pass?"""
    forward, backward, make = CONVENTIONS[name]
    inputs = make(np.random.default_rng(seed))
    gradelib.check_layer(*C.layer(C.Case(forward, backward, None)), inputs, seed=seed)


@pytest.mark.parametrize("seed", range(10))
def test_kink_count_is_the_number_of_kinked_entries(seed):
    """Does the report count each entry on a kink once (not once per direction that crossed it)?"""
    x = _relu_x(np.random.default_rng(seed))
    report = gradelib.check_layer(*C.layer(C.CORRECT["relu"]), {"x": x}, seed=seed)
    assert report["x"].kink_entries == int(np.sum(x == 0))
    assert f"{int(np.sum(x == 0))} entr" in str(report)


def test_too_many_kinks_is_inconclusive_not_passed(rng):
    """With more kinks than the budget resolves, is the verdict "inconclusive", naming what to do?"""
    x = _relu_x(rng, zeros=0.5, shape=(40, 60))

    def backward(dout, c):
        dx = dout * (c[0] > 0)
        dx[np.nonzero(c[0] > 0)[0][0], np.nonzero(c[0] > 0)[1][0]] *= 1.0 + 1e-9  # right within tolerance
        return dx

    with pytest.raises(gradelib.GradientCheckInconclusive) as info:
        gradelib.check_layer(*C.layer(C.Case(C.relu, backward, None)), {"x": x})
    assert info.value.reason == "kinks" and "small noise" in str(info.value)


def test_relu_of_relu_outputs_resolves_hundreds_of_kinks(rng):
    """Does a ReLU applied to 600 ReLU outputs (about 300 exact zeros) pass, each zero checked?"""
    x = np.maximum(rng.standard_normal((20, 30)), 0.0)
    report = gradelib.check_layer(*C.layer(C.CORRECT["relu"]), {"x": x})
    assert report["x"].kink_entries == int(np.sum(x == 0)) > 250
