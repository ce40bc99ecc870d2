"""Does every wrong layer of tests/checker/bugs.py get its verdict (fail with its diagnosis, or
inconclusive with its reason), for every seed, and never a pass?"""
from __future__ import annotations

import numpy as np
import pytest

import gradelib
from gradelib import GradientCheckError, GradientCheckInconclusive
from tests.checker.bugs import BUGS

SEEDS = range(10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(BUGS), ids=str)
def test_bug_gets_its_verdict(name, seed):
    """Is the bug failed with its diagnosis (or refused as inconclusive), never passed?"""
    bug = BUGS[name]
    forward, backward, inputs, kwargs = bug.make(np.random.default_rng(seed))
    expected = GradientCheckError if bug.verdict == "fail" else GradientCheckInconclusive
    with pytest.raises((GradientCheckError, GradientCheckInconclusive)) as info:
        gradelib.check_layer(forward, backward, inputs, seed=seed, **kwargs)
    err = info.value
    assert type(err) is expected, str(err)
    if bug.key is not None:
        assert (err.diagnosis if bug.verdict == "fail" else err.reason) == bug.key, str(err)
    for words in bug.words:
        assert words in str(err), str(err)
    for words in bug.absent:
        assert words not in str(err), str(err)
