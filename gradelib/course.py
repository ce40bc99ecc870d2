"""Where the course lives on disk, and the nbgrader configuration every command shares.

solutions/ is nbgrader's source directory and course/ its release directory:
solutions/<unit>/<unit>.ipynb is released as course/<unit>/<unit>.ipynb, one nbgrader
assignment per unit. nbgrader_config.py (for the `nbgrader` command) and gradelib's own
commands both take their settings from `nbgrader_config()`, so the two cannot drift.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["CODE_STUB", "COURSE_ID", "REPO_ROOT", "nbgrader_config", "tools_on_path", "units"]

# An editable install puts the package next to solutions/ and course/.
REPO_ROOT = Path(__file__).resolve().parent.parent

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
COURSE_ID = "backprop"  # nbgrader's course id, in every gradebook gradelib writes


def nbgrader_config(*, root: str | os.PathLike = REPO_ROOT, db_url: str | None = None, **dirs: str):
    """A traitlets ``Config`` for nbgrader over the course at ``root``.

    ``dirs`` overrides CourseDirectory folders (``release_directory=...``, ...); absolute
    paths are allowed, since nbgrader joins them onto ``root``.
    """
    from traitlets.config import Config  # keeps `import gradelib` free of Jupyter machinery

    c = Config()
    cd = c.CourseDirectory
    cd.root = str(Path(root).resolve())
    cd.course_id = COURSE_ID
    cd.source_directory = "solutions"
    cd.release_directory = "course"
    cd.submitted_directory = "submitted"
    cd.autograded_directory = "autograded"
    cd.feedback_directory = "feedback"
    for name, value in dirs.items():
        setattr(cd, name, str(value))
    cd.db_url = db_url or "sqlite:///" + str(Path(cd.root) / "gradebook.db")
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    return c


def tools_on_path() -> None:
    """Put this interpreter's scripts folder first on PATH.

    nbgrader runs `alembic` (gradebook migrations) as a subprocess found on PATH, which fails
    when `.venv/bin/gradelib` is called without the virtualenv activated.
    """
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "").split(os.pathsep)
    if path[0] != scripts:
        os.environ["PATH"] = os.pathsep.join([scripts, *path])


def units(root: str | os.PathLike = REPO_ROOT) -> list[str]:
    """The course's units, in order: every ``solutions/<unit>/<unit>.ipynb``."""
    source = Path(root) / "solutions"
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file()) if source.is_dir() else []
