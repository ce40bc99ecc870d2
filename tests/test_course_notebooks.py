"""Do the released notebooks behave for a learner who has not started yet?

Run as shipped, a course notebook may stop only at its stubs: solution cells and the cells
that call them raise NotImplementedError, and test cells fail with a readable assertion (or a
GradientCheckError, which is one), never with an error from inside gradelib.
"""
from __future__ import annotations

import pytest

from gradelib.course import units
from tests.notebooks import course_notebook, errors, execute_copy

READABLE_IN_TESTS = {"AssertionError", "ExerciseError", "GradientCheckError", "GradientCheckInconclusive", "NotImplementedError"}  # ExerciseError: gradelib.testing


@pytest.mark.slow
@pytest.mark.parametrize("unit", units())
def test_shipped_notebook_stops_only_at_its_stubs(unit, tmp_path):
    """Does every error of an untouched notebook come from a stub, and read well in test cells?"""
    nb = execute_copy(course_notebook(unit), tmp_path)
    found = errors(nb)
    assert found, "an untouched notebook should fail its visible tests"
    for err in found:
        where = f"{unit} cell {err.index} ({err.kind} {err.grade_id or ''}): {err.ename}: {err.evalue[:200]}"
        if err.kind == "test":
            assert err.ename in READABLE_IN_TESTS, where
            if err.ename != "NotImplementedError":  # the stub's own error names itself
                assert err.evalue.strip(), f"{where}: a failing test must say why"
        else:
            assert err.ename == "NotImplementedError", where
    failing_tests = {e.grade_id for e in found if e.kind == "test"}
    graded = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    assert failing_tests == graded, f"test cells that pass without any solution: {sorted(graded - failing_tests)}"
