"""Does `gradelib check` tell a learner, in one table, what the grader will do with each visible test?"""
from __future__ import annotations

import os

import nbformat
import pytest

from gradelib.cli import main
from gradelib.selfcheck import CheckError, check
from tests.test_grading import UNIT, _descendants, cell_with, insert_after, learner

pytestmark = pytest.mark.slow


def write(nb, tmp_path):
    path = tmp_path / f"{UNIT}.ipynb"
    nbformat.write(nb, path)
    return path


def statuses(report):
    return {e.name: e.status for e in report.exercises}


def test_untouched_notebook_lists_every_test_as_not_attempted(tmp_path, capsys):
    """Does a fresh notebook exit non-zero with every visible test 'not attempted'?"""
    path = write(learner(UNIT), tmp_path)
    assert main(["check", str(path)]) == 1
    printed = capsys.readouterr().out
    assert "0 of 6 visible points" in printed
    assert printed.count("not attempted") == 4


def test_partial_work_shows_the_failure_message_of_a_wrong_exercise(tmp_path):
    """Is a wrong gradient reported as failed with the test's own message, and solved ones as passed?"""
    nb = learner(UNIT, solved={"forward_difference", "central_difference"},
                 bodies={"gradient": "x = np.asarray(x, dtype=float)\nreturn -2 * x"})
    report = check(write(nb, tmp_path))
    assert statuses(report) == {"test_forward_difference": "passed", "test_central_difference": "passed",
                                "test_gradient": "failed", "test_gradient_descent": "not attempted"}
    failed = next(e for e in report.exercises if e.status == "failed")
    assert failed.message.startswith("ExerciseError: grad is wrong") and "Traceback" not in failed.message
    assert not report.passed


def test_solved_notebook_exits_zero(tmp_path, capsys):
    """Does a fully solved notebook pass with all visible points, without being modified on disk?"""
    path = write(learner(UNIT, solved="all"), tmp_path)
    before, processes = path.read_bytes(), set(_descendants(os.getpid()))
    assert main(["check", str(path)]) == 0
    assert "6 of 6 visible points; 4 of 4 tests pass" in capsys.readouterr().out
    assert path.read_bytes() == before
    assert set(_descendants(os.getpid())) <= processes, "a process started by the check outlived it"


def test_a_syntax_error_is_reported_as_a_syntax_error_on_its_exercise(tmp_path):
    """A SyntaxError in the learner's cell reads as one, not as a NameError in the test below it."""
    nb = learner(UNIT, solved={"forward_difference"},
                 bodies={"central_difference": "return (f(x + h) - f(x - h) / (2 * h)"})
    row = next(e for e in check(write(nb, tmp_path)).exercises if e.name == "test_central_difference")
    assert row.status == "failed"
    assert "SyntaxError" in row.message and "central_difference" in row.message and "NameError" not in row.message


def test_a_timeout_is_reported_as_a_timeout(tmp_path):
    """An endless loop in the learner's function makes its test 'timed out' after the grader's limit."""
    nb = learner(UNIT, solved={"forward_difference", "central_difference", "gradient_descent"},
                 bodies={"gradient": "while True:\n    pass"})
    report = check(write(nb, tmp_path), timeout=5)
    row = next(e for e in report.exercises if e.name == "test_gradient")
    assert row.status == "timed out" and "5 s" in row.message
    assert statuses(report)["test_gradient_descent"] == "passed"  # the notebook goes on, as in grading


def test_an_edited_test_cell_is_checked_as_released(tmp_path):
    """Editing a test cell changes nothing: check, like the grader, runs the release's test."""
    nb = learner(UNIT, solved={"forward_difference"})
    cell_with(nb, "test_central_difference").source = 'print("all good")'
    assert statuses(check(write(nb, tmp_path)))["test_central_difference"] == "not attempted"


def test_the_learners_kernel_cannot_forge_a_pass(tmp_path):
    """A notebook that patches numpy and IPython in its own kernel still fails the unsolved exercises."""
    nb = learner(UNIT, solved={"forward_difference"})
    insert_after(nb, "imports", "import numpy\nnumpy.allclose = lambda *a, **k: True\n"
                                "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)")
    report = check(write(nb, tmp_path))
    assert [e.name for e in report.exercises if e.status == "passed"] == ["test_forward_difference"]


@pytest.mark.parametrize("content, expected", [(None, "no notebook"), (b"", "not a readable notebook"),
                                               (b"{oops", "not a readable notebook")])
def test_unreadable_input_gets_a_clear_error(tmp_path, capsys, content, expected):
    """Missing, empty or broken files: exit code 2 and one sentence, no traceback."""
    path = tmp_path / "nb.ipynb"
    if content is not None:
        path.write_bytes(content)
    assert main(["check", str(path)]) == 2
    assert expected in capsys.readouterr().err
    with pytest.raises(CheckError):
        check(path)


def test_a_notebook_without_tests_is_refused(tmp_path):
    """Is a plain notebook (not from the course) refused rather than reported as all-pass?"""
    path = write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), tmp_path)
    with pytest.raises(CheckError, match="no graded test cells"):
        check(path)
