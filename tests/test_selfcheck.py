"""Does `gradelib check` tell a learner, in one table, which exercises pass?"""
from __future__ import annotations

import nbformat
import pytest

from gradelib.cli import main
from gradelib.course import REPO_ROOT
from gradelib.selfcheck import CheckError, check
from tests.test_grading import UNIT, learner

pytestmark = pytest.mark.slow


def write(nb, tmp_path):
    path = tmp_path / f"{UNIT}.ipynb"
    nbformat.write(nb, path)
    return path


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
    status = {e.name: e.status for e in report.exercises}
    assert status == {"test_forward_difference": "passed", "test_central_difference": "passed",
                      "test_gradient": "failed", "test_gradient_descent": "not attempted"}
    failed = next(e for e in report.exercises if e.status == "failed")
    assert "the gradient of x1**2 + 3 x1 x2 at (1, 2) is (8, 3)" in failed.message
    assert not report.passed


def test_solved_notebook_exits_zero(tmp_path, capsys):
    """Does a fully solved notebook pass with all visible points, without being modified on disk?"""
    path = write(learner(UNIT, solved="all"), tmp_path)
    before = path.read_bytes()
    assert main(["check", str(path)]) == 0
    assert "6 of 6 visible points; 4 of 4 tests pass" in capsys.readouterr().out
    assert path.read_bytes() == before


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
