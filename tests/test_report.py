"""Tests of gradelib.report: what a passing check shows."""
from __future__ import annotations

import numpy as np

import gradelib
from tests import layers as L


def test_report_text_and_html(rng):
    """Do the text and HTML reprs list every input, and stay free of noisy digits?"""
    inputs = {"x": rng.standard_normal((2, 3)), "W": rng.standard_normal((3, 3)), "b": rng.standard_normal(3)}
    report = gradelib.check_layer(L.dense_forward, L.dense_backward, inputs)
    text, page = str(report), report._repr_html_()
    for name in inputs:
        assert f"  {name} " in text and f"<td>{name}</td>" in page
    assert "23 function evaluations" in text and "passed" in page
    assert "< 1e-08" in text  # a bound, not round-off digits that differ between machines


def test_report_is_reproducible(rng):
    """Does the same check print the same text twice (nbval compares it)?"""
    x = rng.standard_normal((3, 4))
    a = str(gradelib.check_layer(L.tanh_forward, L.tanh_backward, {"x": x}))
    b = str(gradelib.check_layer(L.tanh_forward, L.tanh_backward, {"x": x}))
    assert a == b


def test_report_lookup_and_fields(rng):
    """Can a test read one input's result by name?"""
    x = rng.standard_normal(4)
    x[0] = 0.0
    report = gradelib.check_layer(L.relu_forward, L.relu_backward, {"x": x})
    assert report["x"].kink_entries == 1 and report["x"].directions >= 2
    assert report.max_rel_error <= report["x"].tolerance
    assert any("kink" in w for w in report.warnings)
