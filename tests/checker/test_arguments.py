"""Do bad arguments and bad return values get one clear sentence (never a pass, never a deep traceback)?"""
from __future__ import annotations

import numpy as np
import pytest

import gradelib
from gradelib import GradientCheckError
from tests import layers as L


def _relu(x):
    return L.relu_forward, L.relu_backward, {"x": x}


X = np.array([[0.5, -1.0], [2.0, 0.3]])

BAD_ARGUMENTS = [
    # (keyword arguments for check_layer, exception, words)
    ({"seed": None}, TypeError, "seed must be a non-negative integer"),
    ({"seed": -1}, ValueError, "seed must be a non-negative integer"),
    ({"seed": "a"}, TypeError, "seed must be a non-negative integer"),
    ({"seed": 1.7}, TypeError, "seed must be a non-negative integer"),
    ({"seed": True}, TypeError, "seed must be a non-negative integer"),
    ({"time_axis": True}, TypeError, "time_axis must be an int"),
    ({"time_axis": 1.0}, TypeError, "time_axis must be an int"),
    ({"time_axis": 5}, ValueError, "is not an axis of the output"),
    ({"inputs": [X]}, TypeError, "inputs must be a dict of name -> array"),
    ({"inputs": {}}, ValueError, "nothing to check"),
    ({"inputs": {"x": [[1.0, 2.0]]}}, TypeError, "pass a numpy array"),
    ({"inputs": {"x": np.zeros((0, 3))}}, ValueError, "is empty (shape (0, 3)): nothing to check"),
    ({"inputs": {"x": X.astype(np.complex128)}}, TypeError, "complex"),
    ({"inputs": {"x": X.astype(np.float16)}}, TypeError, "float16"),
    ({"inputs": {"x": np.arange(3)}}, TypeError, "holds integers"),
    ({"inputs": {"x": "abc"}}, TypeError, "must be a numpy array"),
    ({"time_inputs": ["nope"]}, ValueError, "not inputs"),
]


@pytest.mark.parametrize("kwargs, exc, words", BAD_ARGUMENTS, ids=[str(a[0])[:40] for a in BAD_ARGUMENTS])
def test_bad_argument_gets_one_sentence(kwargs, exc, words):
    """Is each bad argument refused with its own sentence, raised from check_layer itself?"""
    forward, backward, inputs = _relu(X)
    inputs = kwargs.pop("inputs", inputs)
    with pytest.raises(exc) as info:
        gradelib.check_layer(forward, backward, inputs, **kwargs)
    assert words in str(info.value)
    assert str(info.value).count("\n") == 0


def test_check_gradient_seed_and_empty_x_are_refused():
    """Does check_gradient refuse bad seeds and an empty x the same way?"""
    with pytest.raises(TypeError, match="seed must be a non-negative integer"):
        gradelib.check_gradient(lambda v: float(np.sum(v)), X, np.ones_like(X), seed=None)
    with pytest.raises(ValueError, match="nothing to check"):
        gradelib.check_gradient(lambda v: 0.0, np.zeros(0), np.zeros(0))


BAD_RETURNS = [
    # (f, grad, diagnosis, words): what check_gradient's f or grad gives back
    (lambda v: None, np.ones(2), "none", "returned None"),
    (lambda v: np.nan, np.ones(2), "nonfinite", "returned nan"),
    (lambda v: np.inf, np.ones(2), "nonfinite", "returned inf"),
    (lambda v: complex(np.sum(v)), np.ones(2), "type", "complex"),
    (lambda v: np.sum(v).astype(np.float16), np.ones(2), "type", "float16"),
    (lambda v: float(np.sum(v)), np.ones(2, dtype=np.float16), "type", "float16"),
    (lambda v: float(np.sum(v)), np.ones(2, dtype=np.complex128), "type", "complex"),
    (lambda v: v, np.ones(2), "type", "single number"),
]


@pytest.mark.parametrize("f, grad, diagnosis, words", BAD_RETURNS, ids=[b[3] for b in BAD_RETURNS])
def test_bad_objective_or_gradient_never_passes(f, grad, diagnosis, words):
    """Is an objective that is not a finite real number, or a complex/float16 gradient, named, never passed?"""
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_gradient(f, np.array([0.3, -0.2]), grad)
    assert info.value.diagnosis == diagnosis and words in str(info.value)


def test_complex_layer_output_is_refused(rng):
    """Is a forward that returns complex numbers refused rather than silently checked on its real part?"""
    with pytest.raises(GradientCheckError, match="complex"):
        gradelib.check_layer(lambda x: (x * (1 + 1j), x), lambda dout, x: dout, {"x": rng.standard_normal(3)})


def test_list_for_one_input_is_told_to_be_one_array(rng):
    """Is a Python list returned for the single input told 'one array, not a list' (not '3 gradients')?"""
    with pytest.raises(GradientCheckError) as info:
        gradelib.check_layer(L.relu_forward, lambda dout, x: list(dout * (x > 0)), {"x": rng.standard_normal(3)})
    assert "not a list" in str(info.value) and "3 gradients" not in str(info.value)
    assert info.value.diagnosis == "type"
