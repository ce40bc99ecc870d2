"""Is the corpus honest? Every hand-written backward of tests/checker/correct.py equals autograd's
vector-Jacobian product of the same forward (an independent reference), at a point without ties."""
from __future__ import annotations

import numpy as np
import pytest

from tests.checker.correct import CORRECT

autograd = pytest.importorskip("autograd")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", sorted(n for n, c in CORRECT.items() if c.reference), ids=str)
def test_backward_matches_autograd(name, seed):
    """Does the hand-written backward give autograd's gradients for a random upstream gradient?"""
    case = CORRECT[name]
    inputs = list(case.make_inputs(np.random.default_rng(seed)).values())
    out = case.forward(*inputs)
    dout = np.random.default_rng(100 + seed).standard_normal(np.shape(out))
    mine = case.backward(dout, tuple(inputs))
    mine = mine if isinstance(mine, tuple) else (mine,)
    for k in range(len(inputs)):
        def along(v, k=k):
            args = list(inputs)
            args[k] = v
            return autograd.numpy.sum(case.forward(*args) * dout)

        reference = autograd.grad(along)(inputs[k])
        np.testing.assert_allclose(mine[k], reference, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(reference).max()))
