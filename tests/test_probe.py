"""Tests of gradelib.probe: directional derivatives, localisation, kinks."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from gradelib.probe import Objective, Probe


def quadratic(A):
    """L(x) = sum(A * x^2) / 2, gradient A * x: an objective with a known answer."""
    def evaluate(values):
        terms = 0.5 * A * values[0] ** 2
        return float(terms.sum()), float(np.abs(terms).sum())

    return evaluate


def test_right_gradient_passes_in_two_evaluations(rng):
    """Does one direction cost exactly two evaluations when the gradient is right?"""
    A, x = rng.standard_normal(50), rng.standard_normal(50)
    obj = Objective(quadratic(A), [x], 2.2e-16)
    probe = Probe(obj, 0, A * x, rtol=1e-6)
    before = obj.calls
    res = probe.direction(probe.signs(rng))
    assert res.ok and obj.calls - before == 2 and res.rel_error < 1e-8


def test_localise_finds_the_single_wrong_entry_in_log_time(rng):
    """Does bisection find one wrong entry among 4096 in about 2 log2(4096) evaluations?"""
    A, x = rng.standard_normal(4096), rng.standard_normal(4096)
    g = A * x
    g[1234] += 0.1
    obj = Objective(quadratic(A), [x], 2.2e-16)
    probe = Probe(obj, 0, g, rtol=1e-6)
    v = probe.signs(rng)
    res = probe.direction(v)
    assert not res.ok
    before = obj.calls
    index, num = probe.localise(v, res.num - res.yours, budget=64)
    assert index == 1234 and abs(num - A[1234] * x[1234]) < 1e-6
    assert obj.calls - before <= 2 * 12 + 2


def test_kinks_are_split_down_to_single_entries(rng):
    """Are kinked entries isolated and accepted while smooth blocks are still checked?"""
    x = rng.standard_normal(16)
    x[[3, 9]] = 0.0

    def relu_sum(values):
        terms = np.maximum(values[0], 0)
        return float(terms.sum()), float(np.abs(terms).sum())

    obj = Objective(relu_sum, [x], 2.2e-16)
    probe = Probe(obj, 0, (x > 0).astype(float), rtol=1e-6)
    v = probe.signs(rng)
    res = probe.direction(v)
    assert res.kink and not res.ok
    failures, kinked, _ = probe.kink_split(v, budget=400)
    assert failures == [] and kinked == 2


def test_importing_gradelib_loads_no_jupyter_machinery():
    """Does `import gradelib` stay numpy-only?"""
    code = ("import sys, gradelib; heavy = [m for m in sys.modules if m.split('.')[0] in "
            "{'IPython', 'jupyter_client', 'nbformat', 'nbgrader', 'traitlets', 'matplotlib', 'nbclient'}]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
