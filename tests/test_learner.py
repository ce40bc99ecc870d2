"""Tests of gradelib.learner: validating what learner code returns, snapshots, calls."""
from __future__ import annotations

import numpy as np
import pytest

from gradelib import GradientCheckError
from gradelib.learner import ArraySnapshot, call, describe_entry, gradient_list, prepare_inputs


def test_bare_array_is_accepted_for_one_input():
    """May backward return a bare array when there is one input?"""
    (g,) = gradient_list(np.ones(3), ["x"], [(3,)])
    assert g.shape == (3,)


def test_single_array_for_many_inputs_is_refused():
    """Is one array for three inputs a 'count' mistake?"""
    with pytest.raises(GradientCheckError, match="return a tuple of 3") as info:
        gradient_list(np.ones(3), ["x", "W", "b"], [(3,), (3,), (3,)])
    assert info.value.diagnosis == "count"


def test_shape_hints():
    """Do shape errors say transpose / reshape / sum over axis 0?"""
    msg = lambda got, want: str(pytest.raises(GradientCheckError, gradient_list, np.ones(got), ["W"], [want]).value)  # noqa: E731
    assert "transpose" in msg((3, 2), (2, 3))
    assert "reshape" in msg((6,), (2, 3))
    assert "sum over axis 0" in msg((4, 3), (3,))


def test_inf_is_reported_with_its_first_index():
    """Is an inf located?"""
    g = np.zeros((2, 2))
    g[1, 0] = np.inf
    with pytest.raises(GradientCheckError, match=r"inf .* W\[1, 0\]"):
        gradient_list((g,), ["W"], [(2, 2)])


def test_snapshot_finds_in_place_changes():
    """Does a snapshot report which nested array changed, and where?"""
    a, b = np.zeros(3), np.ones(2)
    snap = ArraySnapshot((a, {"b": b}), "cache")
    b[1] = 5
    assert snap.changes() == [("cache[1]['b']", 1, 1.0, 5.0)]


def test_other_exceptions_are_wrapped_with_their_cause():
    """Is a learner's exception turned into a readable failure that keeps the original?"""
    def forward(x):
        return x @ np.ones((5, 5))

    with pytest.raises(GradientCheckError, match="forward .forward. raised ValueError") as info:
        call(forward, np.ones(3), role="forward")
    assert isinstance(info.value.__cause__, ValueError)


def test_prepare_inputs_copies_to_float64():
    """Are the checker's working arrays private float64 copies?"""
    x = np.ones(3, dtype=np.float32)
    names, values = prepare_inputs({"x": x})
    assert names == ["x"] and values[0].dtype == np.float64 and values[0] is not x


def test_describe_entry():
    """Are entries named like Python indexing?"""
    assert describe_entry("W", (3, 4), 7) == "W[1, 3]" and describe_entry("s", (), 0) == "s"
