"""Tests of gradelib.timeaxis: naming the time step where an RNN's gradient stops matching."""
from __future__ import annotations

import numpy as np
import pytest

import gradelib
from gradelib import GradientCheckError
from tests import layers as L


def test_rnn_passes_with_time_axis(rng):
    """Does a correct RNN pass with time_axis=1?"""
    gradelib.check_layer(L.rnn_forward, L.rnn_backward, rnn_inputs(rng), time_axis=1)


@pytest.mark.parametrize(
    "backward, step, words",
    [
        (L.rnn_backward_no_carry, 4, "not carried back through time"),
        (L.rnn_backward_last_step_weights, 5, "sums over all time steps"),
    ],
    ids=["gradient not carried back", "weights from last step only"],
)
def test_rnn_mistakes_name_the_time_step(backward, step, words, rng):
    """Does a classic BPTT mistake fail with the time step where the gradient stops matching?"""
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.rnn_forward, backward, rnn_inputs(rng), time_axis=1)
    err = info.value
    assert err.details["time_step"] == step
    assert f"stops matching at t={step}" in str(err) and words in str(err)


def rnn_inputs(rng, N=3, T=6, D=4, H=5):
    return {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, H)) * 0.5,
        "Wh": rng.standard_normal((H, H)) * 0.5,
        "b": rng.standard_normal(H),
    }


@pytest.mark.parametrize("seed", range(10))
def test_correct_rnn_passes_for_every_seed(seed):
    """Does a correct RNN pass, with and without time_axis, across seeds?"""
    rng = np.random.default_rng(seed)
    gradelib.check_layer(L.rnn_forward, L.rnn_backward, rnn_inputs(rng, T=4), seed=seed, time_axis=1)
    gradelib.check_layer(L.rnn_forward, L.rnn_backward, rnn_inputs(rng, T=3), seed=seed)


def test_wrong_initial_state_gradient_is_not_called_a_weight(rng):
    """Is a wrong dh0 explained as the initial state's gradient, not as a weight summed over steps?"""
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.rnn_forward, L.rnn_backward_zero_dh0, rnn_inputs(rng), time_axis=1)
    message = str(info.value)
    assert "dh0" in message and "initial state" in message
    assert "weight gradients are sums" not in message


@pytest.mark.parametrize("N, T, D, H", [(3, 4, 4, 4), (4, 4, 3, 5), (4, 4, 4, 4), (2, 5, 5, 3)],
                         ids=["D == H == T", "N == T", "N == D == H == T", "D == T"])
def test_time_axis_comes_from_the_contract_not_from_sizes(N, T, D, H):
    """Is only x (N, T, D) time-indexed, whatever sizes equal T?"""
    from gradelib.timeaxis import timed_inputs

    rng = np.random.default_rng(0)
    inputs = rnn_inputs(rng, N=N, T=T, D=D, H=H)
    names, values = list(inputs), list(inputs.values())
    assert timed_inputs(names, values, (N, T, H), 1) == [0]
    assert timed_inputs(names, values, (N, T, H), 1, time_inputs=["x", "h0"]) == [0, 1]
    gradelib.check_layer(L.rnn_forward, L.rnn_backward, inputs, time_axis=1)


def test_caller_may_name_the_time_inputs(rng):
    """Does time_inputs=['x'] give the same verdict and step as the default?"""
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.rnn_forward, L.rnn_backward_no_carry, rnn_inputs(rng), time_axis=1, time_inputs=["x"])
    assert info.value.details["time_step"] == 4 and "not carried back" in str(info.value)
