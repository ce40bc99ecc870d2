"""gradelib.release: the command that regenerates course/ (its output is checked in test_course.py)."""
from __future__ import annotations

import pytest

from gradelib.cli import main
from gradelib.release import ReleaseError, release


def test_unknown_unit_is_named_with_the_real_ones(tmp_path):
    """Does asking for a unit that does not exist list the units that do, before nbgrader runs?"""
    with pytest.raises(ReleaseError, match=r"no unit 'nope'.*01_calculus_recap"):
        release(units=["nope"], release_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_cli_release_failure_is_one_message_and_exit_1(capsys):
    """Does `gradelib release nope` exit 1 with a readable line, no traceback?"""
    assert main(["release", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gradelib release: no unit 'nope'") and "Traceback" not in err
