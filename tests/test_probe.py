"""Tests of gradelib.probe: directional derivatives, measured round-off, kinks, localisation."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gradelib.probe import Objective, Probe


def quadratic(A, dtype=np.float64):
    """L(x) = sum(A * x^2) / 2, gradient A * x: an objective with a known answer."""
    def evaluate(values):
        terms = (0.5 * A * values[0].astype(dtype) ** 2).astype(np.float64)
        return float(terms.sum()), float(np.sqrt(np.sum(terms**2)))

    return evaluate


def probe_for(evaluate, x, g, eps=2.2e-16, rtol=1e-6):
    obj = Objective(evaluate, [x], eps)
    return obj, Probe(obj, g, rtol=rtol, scales=np.maximum(np.abs(x), 0.1))


def test_right_gradient_passes_in_two_evaluations(rng):
    """Does one direction cost exactly two evaluations when the gradient is right?"""
    A, x = rng.standard_normal(50), rng.standard_normal(50)
    obj, probe = probe_for(quadratic(A), x, A * x)
    before = obj.calls
    res = probe.direction(probe.signs(rng, obj.segment(0)))
    assert res.ok and obj.calls - before == 2 and res.rel_error < 1e-8


def test_localise_finds_the_single_wrong_entry_in_log_time(rng):
    """Does bisection find one wrong entry among 4096 in about 2 log2(4096) evaluations?"""
    A, x = rng.standard_normal(4096), rng.standard_normal(4096)
    g = A * x
    g[1234] += 0.1
    obj, probe = probe_for(quadratic(A), x, g)
    res = probe.direction(probe.signs(rng, obj.segment(0)))
    assert res.status == "fail"
    before = obj.calls
    index, num, allowed = probe.localise(res, budget=64)
    assert index == 1234 and abs(num - A[1234] * x[1234]) < 1e-6 and allowed < 0.1
    assert obj.calls - before <= 2 * 12 + 2


def test_exact_kink_is_told_from_a_mismatch(rng):
    """Is a direction through ReLU zeros a kink (not a verdict), with its one-sided slopes?"""
    x = np.array([0.0, 1.0, -1.0])

    def relu_sum(values):
        terms = np.maximum(values[0], 0)
        return float(terms.sum()), float(np.sqrt(np.sum(terms**2)))

    obj, probe = probe_for(relu_sum, x, np.array([0.0, 1.0, 0.0]))
    V = np.array([1.0, 0.0, 0.0])
    res = probe.direction(V)
    assert res.status == "kink"
    assert min(res.slopes) == pytest.approx(0.0, abs=1e-8) and max(res.slopes) == pytest.approx(1.0, rel=1e-8)


def test_float32_round_off_is_measured_not_assumed(rng):
    """Does a float32 objective pass with an allowance from its measured round-off, and a 3% error fail?"""
    A, x = rng.standard_normal(2000), rng.standard_normal(2000)
    for g, status in ((A * x, "ok"), (1.03 * A * x, "fail")):
        obj, probe = probe_for(quadratic(A, np.float32), x, g, eps=2.2e-16, rtol=1e-6)
        res = probe.direction(probe.signs(rng, obj.segment(0)))
        assert res.status == status
        assert probe.sigma() > 1e-9 * obj.rss  # float32-sized, measured although eps says float64


def test_step_that_leaves_the_domain_is_retried(rng):
    """Does a step that makes log(p) NaN get retried with relative, smaller steps, not called a kink?"""
    p = np.array([1e-9, 0.5, 0.3])

    def neglog(values):
        with np.errstate(invalid="ignore", divide="ignore"):
            terms = -np.log(values[0])
        return (float(terms.sum()), 1.0) if np.all(np.isfinite(terms)) else (np.nan, np.nan)

    obj = Objective(neglog, [p], 2.2e-16)
    probe = Probe(obj, -1 / p, rtol=1e-6, scales=np.ones(3))
    res = probe.direction(np.array([1.0, -1.0, 1.0]))
    assert res.ok


def test_importing_gradelib_loads_no_jupyter_machinery():
    """Does `import gradelib` stay numpy-only?"""
    code = ("import sys, gradelib; heavy = [m for m in sys.modules if m.split('.')[0] in "
            "{'IPython', 'jupyter_client', 'nbformat', 'nbgrader', 'traitlets', 'matplotlib', 'nbclient'}]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
