"""Do the course's tests judge learners right? Every mistake fails its own exercise's visible test with
the right words and no other test; every correct variant passes every test, hidden ones included.

The cases are tables in ``tests/learnersim_cases/unit_XX.py`` (``CASES``, a list of
``tests.learnersim.Case``); each unit module also lists, per exercise, the common mistakes the
cases stand for (``MISTAKES``) so a reader can see what the tests were written against.
"""
from __future__ import annotations

import importlib
import pkgutil

import pytest

from tests import learnersim, learnersim_cases

pytestmark = pytest.mark.slow  # each case runs a whole notebook (in a forked process)

UNITS = {
    info.name: importlib.import_module(f"tests.learnersim_cases.{info.name}")
    for info in pkgutil.iter_modules(learnersim_cases.__path__)
}


def _cases():
    for module_name, module in sorted(UNITS.items()):
        for case in module.CASES:
            kind = "wrong" if case.fails else "right"
            yield pytest.param(module.UNIT, case, id=f"{module.UNIT}-{case.exercise}-{kind}-{case.label}")


@pytest.mark.parametrize("unit", sorted({m.UNIT for m in UNITS.values()}))
def test_reference_solution_passes_every_test(unit):
    """Does the instructor's own solution pass every test, visible and hidden, without stderr?"""
    failing = {t: v.visible or v.full for t, v in learnersim.simulate(unit).items() if not v.passed}
    assert not failing, f"the reference solution of {unit} fails: {failing}"


@pytest.mark.parametrize("unit", sorted({m.UNIT for m in UNITS.values()}))
def test_every_exercise_has_cases(unit):
    """Has every exercise of the unit at least two mistakes and one correct variant in its table?"""
    module = next(m for m in UNITS.values() if m.UNIT == unit)
    for exercise in learnersim.solutions(unit):
        wrong = [c for c in module.CASES if c.exercise == exercise and c.fails]
        right = [c for c in module.CASES if c.exercise == exercise and not c.fails]
        assert len(wrong) >= 2 and right, f"{unit}: {exercise} has {len(wrong)} mistakes and {len(right)} correct variants"


@pytest.mark.parametrize("unit,case", list(_cases()))
def test_case_is_judged_right(unit, case):
    problems = learnersim.judge(unit, case)
    assert not problems, "\n".join(problems)
