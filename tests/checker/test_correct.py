"""Do correct layers pass, for every seed? (The corpus: tests/checker/correct.py.)"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradelib
from tests.checker.correct import CORRECT, layer

SEEDS = range(20)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CORRECT), ids=str)
def test_correct_layer_passes(name, seed):
    """Does each correct layer pass at random points and seeds, writing nothing to stderr?"""
    case = CORRECT[name]
    inputs = case.make_inputs(np.random.default_rng(seed))
    saved = {k: v.copy() for k, v in inputs.items()}
    forward, backward = layer(case)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = gradelib.check_layer(forward, backward, inputs, seed=seed, **case.kwargs)
    assert report.passed and [i.name for i in report.inputs] == list(inputs)
    assert all(np.array_equal(inputs[k], saved[k]) for k in inputs)
