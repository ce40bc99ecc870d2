"""Benchmark 4: grading a class: ``gradelib grade`` against nbgrader's own autograde, one by one.

The class: ``STUDENTS`` copies of a unit's solution notebook (a full-marks submission), in
nbgrader's layout ``<student>/<unit>/<unit>.ipynb``. The contenders, from submissions to scores
in a gradebook:

- ``gradelib grade`` (``gradelib.grading.grade``) with one worker, then its default of one
  worker per core: each notebook in a kernel inside the bubblewrap sandbox, feedback pages
  written too; then one worker per core again with ``isolation=False``, which prices the
  sandbox: its cost per notebook is the difference of the two runs' seconds per notebook.
- ``nbgrader autograde``, sequential: a fresh course folder and gradebook, the assignment
  created with ``generate_assignment``, then ``NbGraderAPI.autograde`` for each student in turn.

Grading takes minutes, so each contender runs once; the runs follow each other in one process. The quick mode grades two submissions of a tiny one-exercise unit.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import nbformat

from gradelib.course import COURSE_ID, REPO_ROOT, nbgrader_config, tools_on_path
from gradelib.release import release

from . import BenchmarkSkipped
from .report import pyplot, save_figure
from .timing import stopwatch

__all__ = ["plot", "run"]

UNIT = "01_calculus_recap"
STUDENTS = 20
QUICK_STUDENTS = 1


def _tiny_unit(root: Path) -> str:
    """A one-exercise nbgrader source notebook under ``root/solutions``, for the quick mode."""
    unit = "00_tiny"
    meta = {"schema_version": 3, "locked": False, "solution": True, "grade": False, "grade_id": "square"}
    test = {"schema_version": 3, "locked": True, "solution": False, "grade": True, "grade_id": "test_square", "points": 1}
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                                           "language": "python"}})
    nb.cells = [
        nbformat.v4.new_code_cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                                  metadata={"nbgrader": meta}),
        nbformat.v4.new_code_cell("assert square(3) == 9, 'square(3) should be 9'", metadata={"nbgrader": test}),
    ]
    (root / "solutions" / unit).mkdir(parents=True)
    nbformat.write(nb, root / "solutions" / unit / f"{unit}.ipynb")
    return unit


def _class(source: Path, unit: str, submissions: Path, students: int) -> list[str]:
    names = [f"student{i:02d}" for i in range(1, students + 1)]
    for name in names:
        folder = submissions / name / unit
        folder.mkdir(parents=True)
        shutil.copy(source, folder / f"{unit}.ipynb")
    return names


def _nbgrader_sequential(root: Path, unit: str, submissions: Path, students: list[str], db: Path):
    """Whether nbgrader graded each student, and whether with full marks."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = nbgrader_config(root=root, db_url=f"sqlite:///{db}", submitted_directory=str(submissions))
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    if not api.generate_assignment(unit, force=True, create=True)["success"]:
        raise RuntimeError(f"nbgrader could not create the assignment {unit}")
    ok = [api.autograde(unit, student, force=True, create=True)["success"] for student in students]
    return ok, _full_marks(f"sqlite:///{db}", unit, students)


def _full_marks(db_url: str, unit: str, students: list[str]) -> list[bool]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url, COURSE_ID) as gradebook:
        scores = [gradebook.find_submission(unit, s) for s in students]
        return [sub.max_score > 0 and sub.score == sub.max_score for sub in scores]


@contextmanager
def _kernel_chatter_to(path: Path):
    """Send this process's stderr (which the graders' kernels inherit) to ``path``: a kernel's
    start-up warnings, forty of them, would bury the benchmark's own output."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "wb") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run(*, quick: bool = False) -> list[dict]:
    """Rows: each grader's seconds per notebook, and its time over gradelib's with its default workers."""
    try:
        from gradelib.grading import grade
    except ImportError as error:
        raise BenchmarkSkipped(f"gradelib.grading is not available yet ({error})") from None
    from sqlalchemy.exc import SAWarning

    tools_on_path()  # nbgrader runs `alembic` from PATH
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        course, unit, names = _setup(tmp, quick)
        submissions = tmp / "submissions"
        try:
            with _kernel_chatter_to(tmp / "stderr.log"), warnings.catch_warnings():
                warnings.simplefilter("ignore", SAWarning)  # SQLAlchemy's session warnings from inside nbgrader
                nbgrader = stopwatch(lambda: _nbgrader_sequential(course, unit, submissions, names, tmp / "nbgrader.db"))
                runs = {(workers, isolated): stopwatch(lambda: grade(
                            submissions=submissions, out=tmp / f"out-{workers}-{isolated}", root=course, units=[unit],
                            workers=workers, progress=False, isolation=isolated))
                        for workers, isolated in _contenders(quick)}
        except Exception as error:
            log = (tmp / "stderr.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"grading failed: {error}\nlast of its log:\n{log}") from error
    return _rows(unit, len(names), nbgrader, runs)


def _setup(tmp: Path, quick: bool) -> tuple[Path, str, list[str]]:
    """A private nbgrader course (solutions/ and its release course/) and the class's submissions."""
    course = tmp / "course-root"
    if quick:
        unit, students = _tiny_unit(course), QUICK_STUDENTS
    else:
        unit, students = UNIT, STUDENTS
        shutil.copytree(REPO_ROOT / "solutions" / unit, course / "solutions" / unit)
    release(root=course, units=[unit])  # course/<unit> as learners get it: both graders read it
    names = _class(course / "solutions" / unit / f"{unit}.ipynb", unit, tmp / "submissions", students)
    return course, unit, names


def _contenders(quick: bool) -> list[tuple[int, bool]]:
    """(workers, isolated): one worker (gradelib's own cost per notebook), one per core (its default), and
    one per core without the sandbox (the price of isolation)."""
    cores = os.cpu_count() or 1
    if quick:
        return [(cores, True)]
    return [*([(1, True)] if cores > 1 else []), (cores, True), (cores, False)]


def _rows(unit: str, students: int, nbgrader, runs: dict) -> list[dict]:
    seconds, (ok, full) = nbgrader
    cores = max(workers for workers, _ in runs)
    base = runs[cores, True][0]  # gradelib with its default: one worker per core, isolated
    common = {"_unit": unit, "_students": students}
    rows = [{"grader": "nbgrader autograde, sequential", "notebooks": students, "seconds per notebook": seconds / students,
             "× gradelib time": seconds / base, "all graded": all(ok), "all full marks": len(full) == students and all(full),
             "_seconds": seconds, **common}]
    for (workers, isolated), (t, graded) in runs.items():
        results = graded.results
        rows.append({
            "grader": f"gradelib grade, {workers} worker{'s' * (workers > 1)}{'' if isolated else ', no isolation'}",
            "notebooks": len(results),
            "seconds per notebook": t / max(len(results), 1), "× gradelib time": t / base,
            "all graded": len(results) == students and all(r.status == "graded" for r in results),
            "all full marks": len(results) == students and all(
                bool(r.scores) and r.score == r.max_score for r in results),
            "isolation cost per notebook (s)": ((base - t) / students) if not isolated else None,
            "_seconds": t, "_job_seconds": [round(r.seconds, 3) for r in results], **common,
        })
    return rows


def plot(rows: list[dict], out_dir: Path) -> list[Path]:
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.barh([r["grader"] for r in rows], [r["_seconds"] for r in rows], color=["C7", "C0", "C1", "C2"][: len(rows)])
    ax.set(xlabel="seconds", title=f"Grading {rows[0]['notebooks']} submissions of {rows[0]['_unit']}")
    ax.invert_yaxis()
    return [save_figure(fig, out_dir / "grading.png")]
