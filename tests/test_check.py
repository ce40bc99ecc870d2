"""Tests of gradelib.check: correct layers pass, each wrong layer fails with its diagnosis."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import gradelib
from gradelib import GradientCheckError
from tests import layers as L


def dense_inputs(rng, n=4, d=5, m=5, scale=1.0):
    return {"x": scale * rng.standard_normal((n, d)), "W": scale * rng.standard_normal((d, m)), "b": scale * rng.standard_normal(m)}


@pytest.mark.parametrize("case", sorted(L.WRONG_DENSE), ids=str)
def test_wrong_dense_layer_is_diagnosed(case, rng):
    """Does each deliberately wrong dense backward fail, naming its mistake and the input?"""
    backward, diagnosis, name = L.WRONG_DENSE[case]
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.dense_forward, backward, dense_inputs(rng))
    err = info.value
    assert isinstance(err, AssertionError)
    assert err.diagnosis == diagnosis, str(err)
    if name is not None:
        assert err.input == name
        assert repr(name) in str(err) or f"d{name}" in str(err)


@pytest.mark.parametrize(
    "case, words",
    [
        ("sign flipped", "wrong sign"),
        ("sum vs mean", "4 is the batch size"),
        ("scaled by 3", "3 times the right value"),
        ("values transposed", "transpose"),
        ("all zeros", "all zeros"),
        ("NaN", "NaN"),
        ("None returned", "forget the `return`"),
        ("too few gradients", "returned 2 gradients, but there are 3 inputs (x, W, b)"),
        ("list, not array", "not a numpy array"),
        ("wrong shape (transpose)", "It is the transpose"),
        ("bias not summed", "sum over axis 0"),
        ("single wrong entry", "W[1, 2]"),
        ("updates weights in backward", "before every delta was computed"),
        ("modifies dout", "changed dout in place"),
        ("not implemented", "not implemented yet"),
    ],
)
def test_message_says_what_is_wrong_in_plain_words(case, words, rng):
    """Does the message carry the words a learner needs for each mistake?"""
    backward, _, _ = L.WRONG_DENSE[case]
    with pytest.raises(GradientCheckError, match=None) as info:
        gradelib.check_layer(L.dense_forward, backward, dense_inputs(rng))
    assert words in str(info.value)


def test_single_wrong_entry_shows_yours_and_numerical(rng):
    """Does the worst entry come with both numbers?"""
    backward, _, _ = L.WRONG_DENSE["single wrong entry"]
    inputs = dense_inputs(rng)
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.dense_forward, backward, inputs)
    d = info.value.details
    assert d["index"] == (1, 2)
    assert d["yours"] - d["numerical"] == pytest.approx(0.5, rel=1e-6)


@pytest.mark.parametrize("seed", range(25))
def test_correct_layers_pass_for_every_seed(seed):
    """Do correct dense, tanh, ReLU and MSE layers pass whatever the seed?"""
    rng = np.random.default_rng(seed)
    report = gradelib.check_layer(L.dense_forward, L.dense_backward, dense_inputs(rng, 3, 4, 2), seed=seed)
    assert report.passed and [i.name for i in report.inputs] == ["x", "W", "b"]
    gradelib.check_layer(L.tanh_forward, L.tanh_backward, {"x": rng.standard_normal((3, 4))}, seed=seed)
    gradelib.check_layer(L.relu_forward, L.relu_backward, {"x": rng.standard_normal((3, 4))}, seed=seed)
    gradelib.check_layer(L.mse_forward, L.mse_backward, {"y": rng.standard_normal((5, 2)), "t": rng.standard_normal((5, 2))}, seed=seed)
    gradelib.check_layer(L.dense_relu_forward, L.dense_relu_backward, dense_inputs(rng, 6, 4, 3), seed=seed)


@pytest.mark.parametrize("backward", [L.relu_backward, L.relu_backward_ge], ids=["x>0", "x>=0"])
@pytest.mark.parametrize("seed", range(10))
def test_relu_at_exact_zeros_passes_with_either_convention(backward, seed):
    """Does a correct ReLU pass on inputs full of exact zeros, whichever derivative it picks at 0?"""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 6))
    x[rng.random(x.shape) < 0.4] = 0.0
    report = gradelib.check_layer(L.relu_forward, backward, {"x": x}, seed=seed)
    assert report["x"].kink_entries > 0


@pytest.mark.parametrize("seed", range(10))
def test_relu_near_its_kink_passes(seed):
    """Do entries closer to 0 than the finite-difference step fool the check? They must not."""
    rng = np.random.default_rng(seed)
    x = rng.choice([-1, 1], size=(3, 5)) * 10.0 ** rng.uniform(-12, -5, size=(3, 5))
    gradelib.check_layer(L.relu_forward, L.relu_backward, {"x": x}, seed=seed)


def test_relu_missing_mask_still_fails_among_kinks(rng):
    """With kinks present, is a gradient that forgot the mask still caught?"""
    x = rng.standard_normal((4, 6))
    x[0] = 0.0
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.relu_forward, lambda dout, x: dout.copy(), {"x": x})
    assert info.value.input == "x"


@pytest.mark.parametrize("seed", range(10))
def test_max_with_ties_passes(seed):
    """Does a correct max pass when rows hold ties for the maximum?"""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, size=(5, 4)).astype(float)
    gradelib.check_layer(L.max_forward, L.max_backward, {"x": x}, seed=seed)


@pytest.mark.parametrize("seed", range(5))
def test_dense_relu_with_exact_zero_preactivations_never_fails(seed):
    """Is a kink inside a composite layer (a whole column z = 0 exactly) never failed? Finite
    differences along one weight cross every row's kink at once, so "inconclusive" is honest."""
    inputs = dense_inputs(np.random.default_rng(seed), 4, 3, 3)
    inputs["W"][:, 1] = 0.0
    inputs["b"][1] = 0.0
    try:
        gradelib.check_layer(L.dense_relu_forward, L.dense_relu_backward, inputs, seed=seed)
    except gradelib.GradientCheckInconclusive as info:
        assert info.reason == "kinks" and "Cannot tell" in str(info)


@pytest.mark.parametrize("seed", range(5))
def test_large_magnitude_inputs_pass(seed):
    """Do inputs of magnitude 1e3 pass without a spurious failure?"""
    rng = np.random.default_rng(seed)
    gradelib.check_layer(L.dense_forward, L.dense_backward, dense_inputs(rng, scale=1e3), seed=seed)
    gradelib.check_layer(L.tanh_forward, L.tanh_backward, {"x": 1e3 * rng.standard_normal((3, 4))}, seed=seed)
    gradelib.check_layer(L.relu_forward, L.relu_backward, {"x": 1e3 * rng.standard_normal((3, 4))}, seed=seed)


@pytest.mark.parametrize("seed", range(10))
def test_float32_layer_passes_with_a_note_and_no_warning(seed):
    """Does a layer computing in float32 pass, saying in its report (not on stderr) that the check is looser?"""
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nbgrader gives 0 points to a test cell that writes to stderr
        report = gradelib.check_layer(L.dense32_forward, L.dense32_backward, dense_inputs(rng, 8, 16, 4), seed=seed)
    assert any("float32" in w for w in report.warnings) and "float32" in str(report)


@pytest.mark.parametrize("seed", range(20))
def test_float32_hidden_in_a_float64_function_never_fails_spuriously(seed):
    """Does a correct layer that computes in float32 but returns float64 pass?"""
    rng = np.random.default_rng(seed)
    gradelib.check_layer(L.hidden32_forward, L.hidden32_backward,
                         {"x": rng.standard_normal((8, 16)), "W": rng.standard_normal((16, 4))}, seed=seed)


def test_float32_layer_with_a_real_error_still_fails(rng):
    """Is the float32 tolerance still tight enough to catch a sign error?"""
    def backward(dout, cache):
        dx, dW, db = L.dense32_backward(dout, cache)
        return dx, -dW, db

    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.dense32_forward, backward, dense_inputs(rng))
    assert info.value.diagnosis == "sign"


def test_forward_modifying_its_input_is_reported(rng):
    """Is an input changed in place by forward named?"""
    x = rng.standard_normal((3, 4))
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.relu_forward_inplace, L.relu_backward, {"x": x})
    assert info.value.diagnosis == "inplace" and info.value.input == "x"
    assert "forward changed the input 'x' in place" in str(info.value)


def test_backward_modifying_the_cache_is_reported(rng):
    """Is a cached array changed in place by backward reported?"""
    def backward(dout, out):
        out *= 0.5  # corrupts the cache
        return dout * (1 - 4 * out**2)

    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.tanh_forward, backward, {"x": rng.standard_normal((2, 3))})
    assert info.value.diagnosis == "inplace" and "cache" in str(info.value)


def test_learners_arrays_are_never_modified(rng):
    """Are the caller's arrays untouched, even by a layer that writes into its inputs?"""
    inputs = dense_inputs(rng)
    saved = {k: v.copy() for k, v in inputs.items()}
    gradelib.check_layer(L.dense_forward, L.dense_backward, inputs)
    backward, _, _ = L.WRONG_DENSE["updates weights in backward"]
    with pytest.raises(GradientCheckError):
        gradelib.check_layer(L.dense_forward, backward, inputs)
    for k in inputs:
        assert np.array_equal(inputs[k], saved[k]) and inputs[k].dtype == saved[k].dtype


def test_cost_does_not_grow_with_parameters(rng):
    """Does a 262k-parameter dense layer take at most 25 forward calls, and is one wrong entry caught and named?"""
    calls = []

    def forward(x, W, b):
        calls.append(1)
        return L.dense_forward(x, W, b)

    inputs = {"x": rng.standard_normal((64, 512)), "W": rng.standard_normal((512, 512)) / 20, "b": rng.standard_normal(512)}
    report = gradelib.check_layer(forward, L.dense_backward, inputs)
    assert len(calls) == report.evaluations <= 25

    def backward(dout, cache):
        dx, dW, db = L.dense_backward(dout, cache)
        dW = dW.copy()
        dW[300, 7] += 0.05 * np.abs(dW).max()
        return dx, dW, db

    calls.clear()
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(forward, backward, inputs)
    assert info.value.input == "W" and info.value.details["index"] == (300, 7)
    assert len(calls) <= 150  # the failure path measures round-off and confirms at a second step


def test_same_seed_same_result(rng):
    """Is the check deterministic for a seed?"""
    backward, _, _ = L.WRONG_DENSE["single wrong entry"]
    inputs = dense_inputs(rng)
    messages = []
    for _ in range(2):
        with pytest.raises(GradientCheckError) as info:
            gradelib.check_layer(L.dense_forward, backward, inputs, seed=7)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_bad_arguments_get_clear_errors(rng):
    """Do wrong arguments raise a short TypeError/ValueError rather than a deep traceback?"""
    with pytest.raises(TypeError, match="must be a dict of name -> array"):
        gradelib.check_layer(L.dense_forward, L.dense_backward, [1, 2])
    with pytest.raises(TypeError, match="must be functions"):
        gradelib.check_layer(None, L.dense_backward, {"x": np.ones(2)})
    with pytest.raises(TypeError, match="integers"):
        gradelib.check_layer(L.relu_forward, L.relu_backward, {"x": np.arange(3)})
    with pytest.raises(ValueError, match="NaN"):
        gradelib.check_layer(L.relu_forward, L.relu_backward, {"x": np.array([np.nan])})
    with pytest.raises(ValueError, match="time_axis"):
        gradelib.check_layer(L.relu_forward, L.relu_backward, {"x": np.ones((2, 2))}, time_axis=5)


def test_forward_not_returning_a_pair(rng):
    """Is a forward that returns only out told to return (out, cache)?"""
    with pytest.raises(GradientCheckError, match=r"must return \(out, cache\)"):
        gradelib.check_layer(lambda x: x * 2, L.relu_backward, {"x": rng.standard_normal(3)})


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 5), d=st.integers(1, 6), m=st.integers(1, 6))
def test_dense_passes_for_any_shape_and_seed(seed, n, d, m):
    """Property: a correct dense layer passes for every shape and seed."""
    rng = np.random.default_rng(seed)
    gradelib.check_layer(L.dense_forward, L.dense_backward, dense_inputs(rng, n, d, m), seed=seed)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), zeros=st.floats(0, 1))
def test_relu_passes_for_any_pattern_of_zeros(seed, zeros):
    """Property: a correct ReLU passes whatever fraction of its inputs sit exactly on the kink."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 5))
    x[rng.random(x.shape) < zeros] = 0.0
    gradelib.check_layer(L.relu_forward, L.relu_backward, {"x": x}, seed=seed)


def test_learner_seed_zero_does_not_hide_a_transposed_gradient():
    """With inputs from default_rng(0) and the checker's default seed 0, is a transposed dW still caught?"""
    rng = np.random.default_rng(0)
    inputs = {"x": rng.standard_normal((4, 3)), "W": rng.standard_normal((3, 3)), "b": np.zeros(3)}
    backward, _, _ = L.WRONG_DENSE["values transposed"]
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.dense_forward, backward, inputs)
    assert info.value.diagnosis == "transpose"
