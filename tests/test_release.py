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


def test_new_gradebooks_get_nbgraders_schema_version_without_its_subprocess(tmp_path):
    """release() stamps new gradebooks with alembic's head read in-process: the version nbgrader's own
    `alembic heads` subprocess gives, and nbgrader's function is back afterwards."""
    import nbgrader.api
    from nbgrader.api import Gradebook

    from gradelib.course import tools_on_path
    from gradelib.database import alembic_head, new_gradebooks_in_process

    tools_on_path()  # nbgrader runs `alembic` from PATH
    theirs = nbgrader.api.get_alembic_version
    assert alembic_head() == theirs()
    with new_gradebooks_in_process():
        assert nbgrader.api.get_alembic_version is alembic_head
        with Gradebook(f"sqlite:///{tmp_path / 'new.db'}", "backprop") as gradebook:
            stamped = gradebook.db.execute(__import__("sqlalchemy").text("SELECT version_num FROM alembic_version")).scalar()
    assert stamped == theirs() and nbgrader.api.get_alembic_version is theirs
