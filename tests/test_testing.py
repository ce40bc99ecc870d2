"""Do the test-cell helpers of gradelib.testing judge right and say what is wrong in plain words?"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from gradelib.testing import (
    ExerciseError,
    assert_close,
    assert_float_array,
    assert_shape,
    call,
    call_strict,
    not_modified,
    prerequisite,
    relies_on,
)


def stub(x):
    raise NotImplementedError()


def crashes(x):
    return x / "a"


def deep(n):
    return deep(n + 1)


@pytest.mark.parametrize(
    "fn,words",
    [
        (stub, r"stub is not implemented yet: replace `raise NotImplementedError\(\)`"),
        (crashes, r"crashes raised \w*TypeError: "),
        (deep, r"RecursionError.*explicit stack"),
        (lambda x: x[5], r"your function raised IndexError"),
    ],
    ids=["stub", "crash", "recursion", "lambda"],
)
def test_call_turns_exceptions_into_one_sentence(fn, words):
    """Does a stub or a crash become an ExerciseError naming the function, chained to the cause?"""
    with pytest.raises(ExerciseError, match=words) as info:
        call(fn, np.zeros(2))
    assert info.value.__cause__ is not None


def test_call_returns_the_result_and_passes_keywords():
    assert call(lambda x, *, h: x + h, 1.0, h=2.0) == 3.0


@pytest.mark.parametrize(
    "got,expected,words",
    [
        (np.array([1.0, 2.0, 3.5]), [1.0, 2.0, 3.0], r"wrong at 1 of 3 entries; at g\[2\]: yours 3.5, expected 3"),
        (1.000001, 1.0, r"g should be 1, got 1.000001"),
        (np.zeros((3, 2)), np.zeros((2, 3)), r"shape \(2, 3\), got \(3, 2\).*transpose"),
        (np.zeros(3), np.zeros((1, 3)), r"batch axis is missing"),
        (None, 1.0, r"g is None: did the function forget to `return`"),
        (np.array([np.nan, 1.0]), [1.0, 1.0], r"g\[0\] is nan: look for an overflow"),
        ("abc", 1.0, r"should hold numbers"),
        ([np.zeros(2), np.zeros(3)], np.zeros(2), r"list of 2 arrays; return one array"),
    ],
    ids=["entry", "scalar-digits", "transpose", "batch-axis", "none", "nan", "string", "list-of-arrays"],
)
def test_assert_close_says_what_and_where(got, expected, words):
    with pytest.raises(ExerciseError, match=words):
        assert_close(got, expected, what="g")


def test_assert_close_shows_digits_that_differ():
    """Two numbers that print alike in 6 digits must not be shown as equal ("expected 1.647362, got 1.647362")."""
    with pytest.raises(ExerciseError) as info:
        assert_close(1.6473621, 1.6473624, what="loss", rtol=1e-9)
    message = str(info.value)
    assert "1.6473621" in message and "1.6473624" in message


@pytest.mark.parametrize(
    "got",
    [np.array([1.0, 2.0]), [1.0, 2.0], (1, 2), np.array([1.0, 2.0], dtype=np.float32) + 1e-8],
    ids=["array", "list", "int-tuple", "float32"],
)
def test_assert_close_accepts_equal_values_in_any_container(got):
    assert_close(got, [1.0, 2.0], what="g", rtol=1e-6)


def test_assert_close_hint_is_appended():
    with pytest.raises(ExerciseError, match=r"slope should be 2, got 1\. Did you use the h you were given\?"):
        assert_close(1.0, 2.0, what="slope", hint="Did you use the h you were given?")


def test_assert_shape_passes_and_names_axes_order():
    assert_shape(np.zeros((2, 3, 4)), (2, 3, 4), what="h")
    with pytest.raises(ExerciseError, match=r"axes are in the wrong order"):
        assert_shape(np.zeros((3, 2, 4)), (2, 3, 4), what="h")


def test_assert_float_array_refuses_integers():
    assert assert_float_array(np.array([1.0], dtype=np.float32), what="g").dtype == np.float32
    with pytest.raises(ExerciseError, match=r"should hold floats, got int64"):
        assert_float_array(np.array([1, 2]), what="gradient")


def test_not_modified_names_the_entry_that_changed(rng):
    x = rng.standard_normal((2, 3))
    with pytest.raises(ExerciseError, match=r"relu changed its input in place: x\[1, 2\] was .* and is now 0"):
        with not_modified("relu", x=x):
            x[1, 2] = 0.0


def test_not_modified_reports_a_one_ulp_drift_with_its_digits():
    """A drift of one ulp must not read "[0.5 -1. 2.] became [0.5 -1. 2.]"."""
    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(ExerciseError) as info:
        with not_modified("gradient", x=x):
            x[1] = np.nextafter(-1.0, 0.0)
    assert "x[1] was -1 and is now -0.9999999999999999" in str(info.value)


def test_not_modified_sees_into_dicts_and_lists(rng):
    params = {"W1": rng.standard_normal((2, 2)), "b1": np.zeros(2)}
    with pytest.raises(ExerciseError, match=r"params\['b1'\]\[0\]"):
        with not_modified("train_step", params=params):
            params["b1"] -= 1.0
    with pytest.raises(ExerciseError, match=r"params\['W1'\] was replaced"):
        with not_modified("train_step", params=params):
            params["W1"] = params["W1"] * 2
    with not_modified("train_step", params=params):  # reading and copying is fine
        _ = {k: v.copy() - 1 for k, v in params.items()}


def test_prerequisite_names_the_earlier_exercise():
    def earlier_is_wrong():
        raise ExerciseError("h should have shape (2, 3), got (3, 2)")

    with pytest.raises(ExerciseError, match=r"uses your rnn_step_forward, which is not right yet \(h should have "
                                            r"shape.*fix rnn_step_forward first"):
        prerequisite("rnn_step_forward", earlier_is_wrong)
    prerequisite("rnn_step_forward", lambda: None)


def test_helpers_never_warn():
    """A helper that warned would cost the learner the cell's points in nbgrader (stderr)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_close(np.float32(1.0), 1.0, what="g", rtol=1e-6)
        with pytest.raises(ExerciseError):
            assert_close(np.array([np.inf]), [1.0], what="g")


def test_call_strict_fails_an_overflow_and_passes_stable_code():
    """Does call_strict turn numpy's overflow warning into a verdict naming the function, and pass stable code?"""
    def naive_sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def stable_sigmoid(z):
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

    z = np.array([-1000.0, 0.0, 1000.0])
    with pytest.raises(ExerciseError, match=r"naive_sigmoid is not numerically stable: numpy reported 'overflow"):
        call_strict(naive_sigmoid, z)
    assert np.allclose(call_strict(stable_sigmoid, z), [0.0, 0.5, 1.0])
    assert call_strict(np.exp, -1000.0) == 0.0  # underflow is not an error
    with pytest.raises(ExerciseError, match=r"stub is not implemented yet"):
        call_strict(stub, z)


def test_relies_on_blames_the_earlier_exercise_only_when_it_is_wrong():
    """Does a failing block blame the earlier exercise only when that one is wrong too?"""
    def earlier_is_wrong():
        raise ExerciseError("sigmoid(0) should be 0.5")

    with pytest.raises(ExerciseError, match=r"uses your sigmoid, which is not right yet.*fix sigmoid first"):
        with relies_on("sigmoid", earlier_is_wrong):
            raise ExerciseError("sigmoid_prime is wrong")
    with pytest.raises(ExerciseError, match=r"^sigmoid_prime is wrong$"):
        with relies_on("sigmoid", lambda: None):
            raise ExerciseError("sigmoid_prime is wrong")
    with relies_on("sigmoid", earlier_is_wrong):  # a passing block is never blamed on anyone
        pass
