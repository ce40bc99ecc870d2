"""Where the course lives on disk, and the nbgrader configuration every command shares.

solutions/ is nbgrader's source directory and course/ its release directory:
solutions/<unit>/<unit>.ipynb is released as course/<unit>/<unit>.ipynb, one nbgrader
assignment per unit. nbgrader_config.py (for the `nbgrader` command and the formgrader) and
gradelib's own commands both take their settings from `nbgrader_config()`, so the two
cannot drift: among them the feedback page (hidden tests cleared, tests named by exercise,
math rendered offline; see gradelib.feedback).

An installed gradelib (``pip install .`` elsewhere) has no course beside it: `find_course`
finds the course a command is run in, or says why there is none.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "CLASS_DIRS", "CODE_STUB", "COURSE_ID", "REPO_ROOT", "CourseNotFound", "class_config", "find_course", "is_course",
    "nbgrader_config", "tools_on_path", "units",
]

# An editable install puts the package next to solutions/ and course/.
REPO_ROOT = Path(__file__).resolve().parent.parent

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
COURSE_ID = "backprop"  # nbgrader's course id, in every gradebook gradelib writes

# Where a class's data lives in a course folder, for nbgrader's own commands and the
# formgrader: the layout `gradelib grade --submissions submitted/ --out grading-out/` uses.
# nbgrader's generate_assignment writes its release copy there too: course/ belongs to
# `gradelib release` (a test checks it matches solutions/), and nbgrader may not rewrite it.
CLASS_DIRS = {
    "release_directory": "grading-out/release",
    "submitted_directory": "submitted",
    "autograded_directory": "grading-out/autograded",
    "feedback_directory": "grading-out/feedback",
}
CLASS_GRADEBOOK = "grading-out/gradebook.db"


class CourseNotFound(RuntimeError):
    """No course folder where one was asked for; the message says where gradelib looked."""


def is_course(path: str | os.PathLike) -> bool:
    """Does ``path`` hold a course: a solutions/<unit>/<unit>.ipynb or a course/<unit>/<unit>.ipynb?"""
    path = Path(path)
    return any(
        (unit / f"{unit.name}.ipynb").is_file()
        for folder in ("solutions", "course") if (path / folder).is_dir()
        for unit in (path / folder).iterdir()
    )


def find_course(course: str | os.PathLike | None = None) -> Path:
    """The course folder a command works on: ``course`` if given, else the current folder.

    Raises CourseNotFound with one sentence when that folder holds no course.
    """
    folder = Path(course if course is not None else os.getcwd()).resolve()
    if is_course(folder):
        return folder
    if course is None:
        raise CourseNotFound(
            f"{folder} is not a course folder (no solutions/<unit>/<unit>.ipynb or course/<unit>/<unit>.ipynb): "
            "run this in the course's folder or pass --course DIR"
        )
    if not folder.is_dir():
        raise CourseNotFound(f"--course {course}: no such folder")
    raise CourseNotFound(f"--course {course}: no solutions/<unit>/<unit>.ipynb or course/<unit>/<unit>.ipynb in {folder}")


def nbgrader_config(*, root: str | os.PathLike = REPO_ROOT, db_url: str | None = None, **dirs: str):
    """A traitlets ``Config`` for nbgrader over the course at ``root``.

    ``dirs`` overrides CourseDirectory folders (``release_directory=...``, ...); absolute
    paths are allowed, since nbgrader joins them onto ``root``. The feedback settings
    (GenerateFeedback's preprocessors and page template) come from gradelib.feedback.
    """
    from traitlets.config import Config  # keeps `import gradelib` free of Jupyter machinery

    from . import feedback

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
    c.Autograde.sanitize_preprocessors = _sanitize_steps()
    c.merge(feedback.feedback_config())
    return c


def _sanitize_steps() -> list:
    """Autograde's sanitize chain, with OverwriteCells swapped for the variant that knows
    released test cells lack their hidden tests (gradelib.nbgrader_steps)."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import OverwriteCells

    from .nbgrader_steps import OverwriteCellsKnowingHiddenTests

    steps = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    swapped = [OverwriteCellsKnowingHiddenTests if step is OverwriteCells else step for step in steps]
    # import paths keep the configuration serializable (the formgrader shows it)
    return [f"{step.__module__}.{step.__qualname__}" for step in swapped]


def class_config(root: str | os.PathLike = REPO_ROOT):
    """nbgrader's configuration for a class graded in the course folder ``root``.

    The class's data sits where `gradelib grade --submissions submitted/ --out grading-out/`
    puts it (CLASS_DIRS), so nbgrader's own commands and the formgrader work on the gradebook
    and feedback that gradelib writes, and nothing lands in the course folder's root.
    """
    root = Path(root).resolve()
    (root / CLASS_GRADEBOOK).parent.mkdir(parents=True, exist_ok=True)  # SQLite makes no folders
    c = nbgrader_config(root=root, db_url="sqlite:///" + str(root / CLASS_GRADEBOOK), **CLASS_DIRS)
    # ipykernel warns on stderr that its TCP loopback is unencrypted, once per notebook
    # autograded; the kernel's own log is not the notebook's output.
    c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
    # nbgrader's exchange (release/collect through a shared folder) defaults to a system
    # folder; a course-local one keeps the formgrader's pages from failing on it.
    exchange = root / "grading-out" / "exchange"
    exchange.mkdir(exist_ok=True)
    c.Exchange.root = str(exchange)
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
