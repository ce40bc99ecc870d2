"""Shared fixtures: every test gets a seeded private generator, and the global RNG must stay untouched."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A private generator with a fixed seed; tests never use numpy's global RNG."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def global_rng_untouched():
    """Does the code under test leave numpy's global RNG alone?"""
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    yield
    assert np.array_equal(np.random.get_state()[1], before), "numpy's global RNG was used"
