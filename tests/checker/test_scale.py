"""Do the guarantees hold at scale? Cost independent of size, float32 round-off measured (not a bound
that grows with size), and the sensitivity the report states is one the check has."""
from __future__ import annotations

import numpy as np
import pytest

import gradelib
from gradelib import GradientCheckError
from tests.checker import correct as C


def _big(rng, dtype=np.float64):
    """About 1e6 parameters: x (8, 1000), W (1000, 1000), b (1000,)."""
    return {"x": rng.standard_normal((8, 1000)), "W": rng.standard_normal((1000, 1000)) / 30, "b": rng.standard_normal(1000)}


def _dense(dtype, fix=None):
    def forward(x, W, b):
        x, W, b = (a.astype(dtype) for a in (x, W, b))
        return x @ W + b, (x, W, b)

    def backward(dout, cache):
        x, W, b = cache
        d = dout.astype(dtype)
        grads = (d @ W.T, x.T @ d, d.sum(axis=0))
        return fix(*grads) if fix else grads

    return forward, backward


@pytest.mark.parametrize("seed", range(2))
def test_float32_layer_of_1e6_entries_passes_and_a_3_percent_error_fails(seed):
    """Does a correct float32 layer of 1e6 parameters pass, and one with dW 3% off fail (tolerance 1e-3)?"""
    inputs = _big(np.random.default_rng(seed))
    report = gradelib.check_layer(*_dense(np.float32), inputs, seed=seed)
    assert report["W"].tolerance == 1e-3 and report["W"].sensitivity is not None
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(*_dense(np.float32, lambda dx, dW, db: (dx, 1.03 * dW, db)), inputs, seed=seed)
    assert info.value.input == "W" and info.value.diagnosis == "scale"


def test_one_entry_off_by_1_percent_at_1e6_parameters_is_caught_and_named(rng):
    """Is one entry of dW 1% off, among 1e6 parameters, caught and named, as the stated sensitivity promises?"""
    inputs = _big(rng)
    report = gradelib.check_layer(*_dense(np.float64), inputs)
    assert report["W"].sensitivity < 1e-2  # the report promises it

    chosen = []

    def poke(dx, dW, db):
        dW = dW.copy()
        rms = np.sqrt(np.mean(dW**2))
        i = np.unravel_index(np.argmin(np.abs(np.abs(dW) - rms) + (np.abs(inputs["W"]) < 1 / 30)), dW.shape)
        chosen.append(tuple(int(j) for j in i))  # an entry of typical size: the sensitivity is stated for those
        dW[i] *= 1.01
        return dx, dW, db

    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(*_dense(np.float64, poke), inputs)
    entry = f"W[{chosen[0][0]}, {chosen[0][1]}]"
    assert info.value.details["index"] == chosen[0] and entry in str(info.value)


@pytest.mark.parametrize("seed", range(5))
def test_stated_sensitivity_is_kept(seed):
    """Is an error of 1.5 times the stated sensitivity, on an entry of typical size, always caught?"""
    rng = np.random.default_rng(seed)
    case = C.CORRECT["tanh(x W)"]
    inputs = {"x": rng.standard_normal((16, 40)), "W": rng.standard_normal((40, 30)) / 5}
    forward, backward = C.layer(case)
    report = gradelib.check_layer(forward, backward, inputs, seed=seed)
    sens = report["W"].sensitivity

    def poked(dout, cache):
        gx, gW = backward(dout, cache)
        gW = gW.copy()
        i = np.unravel_index(np.argsort(np.abs(gW).reshape(-1))[gW.size // 2], gW.shape)  # a median-size entry
        gW[i] += 1.5 * sens * np.sqrt(np.mean(gW**2))
        return gx, gW

    with pytest.raises(GradientCheckError):
        gradelib.check_layer(forward, poked, inputs, seed=seed)
