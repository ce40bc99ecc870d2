"""Is the course on disk what the instructor's notebooks say it is?

solutions/ is the source of truth; course/ is generated from it by `make release`. These tests
fail when someone edits solutions/ and forgets to release, edits course/ by hand, or stores a
solution notebook without its outputs (nbval would then compare nothing).
"""
from __future__ import annotations

import json

import nbformat
import pytest

from gradelib.course import REPO_ROOT, units
from gradelib.release import release

UNITS = units()
EXPECTED = ["01_calculus_recap", "02_chain_rule", "03_feed_forward", "04_backprop", "05_bptt", "06_lstm"]


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_units_are_the_course_outline_in_order():
    """Is every unit in solutions/ one of the course's units, and does course/ hold no stray ones?"""
    assert UNITS, "solutions/ holds no unit"
    assert set(UNITS) <= set(EXPECTED), f"unexpected units: {sorted(set(UNITS) - set(EXPECTED))}"
    released = sorted(p.name for p in (REPO_ROOT / "course").iterdir() if p.is_dir())
    assert released == UNITS, f"course/ holds {released}, solutions/ holds {UNITS}: run `make release`"


@pytest.mark.parametrize("unit", UNITS)
def test_course_is_in_sync_with_solutions(unit, tmp_path):
    """Does releasing solutions/<unit> again give exactly the notebook in course/?"""
    (fresh,) = release(units=[unit], release_dir=tmp_path)
    shipped = REPO_ROOT / "course" / unit / f"{unit}.ipynb"
    assert shipped.is_file(), f"course/{unit} is missing: run `make release`"
    assert _cells(fresh) == _cells(shipped), f"course/{unit} is out of date with solutions/{unit}: run `make release`"


@pytest.mark.parametrize("unit", UNITS)
def test_solution_notebook_is_stored_executed_and_well_formed(unit):
    """Are the solution's outputs stored (for nbval), error-free, with unique grade ids and the python3 kernel?"""
    nb = nbformat.read(REPO_ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{unit}: some code cells were never executed; store the outputs"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{unit}: stored outputs contain errors: {[e['ename'] for e in errors]}"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), f"{unit}: duplicate grade ids"
    tests = [c for c in code if c.metadata.get("nbgrader", {}).get("grade")]
    solutions = [c for c in code if c.metadata.get("nbgrader", {}).get("solution")]
    assert tests and solutions, f"{unit}: a unit needs exercises and tests"
    for cell in solutions:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, cell.metadata["nbgrader"]["grade_id"]
    for cell in tests:
        assert cell.metadata["nbgrader"]["points"] > 0
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests), f"{unit}: no hidden tests"
    figures = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert figures, f"{unit}: a lesson needs at least one figure"


@pytest.mark.parametrize("unit", UNITS)
def test_learner_version_hides_solutions_and_hidden_tests(unit):
    """Does course/ carry stubs in place of solutions, no hidden tests and no outputs?"""
    text = (REPO_ROOT / "course" / unit / f"{unit}.ipynb").read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"course/{unit} shows {marker!r}"
    nb = nbformat.reads(text, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"course/{unit} ships outputs"
    assert "raise NotImplementedError()" in text
