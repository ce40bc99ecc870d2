"""Slow functions: does the check say up front how many calls it will make, show progress on stdout
(never stderr), stay silent for fast functions, and stop cleanly on Ctrl-C?"""
from __future__ import annotations

import numpy as np
import pytest

import gradelib
import gradelib.progress
from tests.checker import correct as C


def _dense_inputs(rng):
    return {"x": rng.standard_normal((3, 4)), "W": rng.standard_normal((4, 2)), "b": rng.standard_normal(2)}


def test_fast_check_prints_nothing(rng, capsys):
    """Does a check of a fast layer write nothing at all?"""
    gradelib.check_layer(*C.layer(C.CORRECT["dense"]), _dense_inputs(rng))
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_slow_check_announces_its_calls_and_progress(rng, capsys, monkeypatch):
    """When one call is slow, is the number of calls announced first, then progress, on stdout only?"""
    monkeypatch.setattr(gradelib.progress, "SLOW", 0.0)  # every function counts as slow
    monkeypatch.setattr(gradelib.progress, "EVERY", 0.0)
    report = gradelib.check_layer(*C.layer(C.CORRECT["dense"]), _dense_inputs(rng))
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert "this check makes about 23 calls" in lines[0] and "Ctrl-C stops it" in lines[0]
    assert any(f"of about 23 calls done" in line for line in lines[1:])
    assert report.evaluations == 23


def test_ctrl_c_stops_the_check(rng):
    """Does a KeyboardInterrupt inside forward stop the check at once, as a KeyboardInterrupt?"""
    calls = []
    forward, backward = C.layer(C.CORRECT["dense"])

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return forward(*args)

    inputs = _dense_inputs(rng)
    saved = {k: v.copy() for k, v in inputs.items()}
    with pytest.raises(KeyboardInterrupt):
        gradelib.check_layer(interrupted, backward, inputs)
    assert len(calls) == 5 and all(np.array_equal(inputs[k], saved[k]) for k in inputs)
