"""The gradebooks of a run: the template every job copies, the class gradebook, grades.csv.

* **Template** (``template``): the units' assignments, notebooks and grade cells, made once
  by nbgrader's generate_assignment (about a second per unit) and cached in ``out/.cache``
  under a key of the units' source notebooks. The cache holds the file's SHA-256 beside it and
  is used only when the file still has that hash; otherwise it is rebuilt.
* **Class gradebook** (``ClassGradebook``): the run's single writer copies each job's scores
  in, clamped to each cell's points, in short transactions; a database error is retried, then
  costs that job only (``RecordError``), never the batch.
* **grades.csv** (``write_grades_csv``): written by gradelib from the run's own records and the
  class gradebook, checked against each other; every field is plain text to a spreadsheet.
"""
from __future__ import annotations

import csv
import hashlib
import shutil
import time
from pathlib import Path

from ..course import COURSE_ID
from .records import GradingError, JobResult

__all__ = ["ClassGradebook", "RecordError", "csv_safe", "sqlite_url", "template", "write_grades_csv"]

RETRIES = 3
CSV_COLUMNS = ["assignment", "student_id", "score", "max_score"]


class RecordError(Exception):
    """The class gradebook refused one job's scores after every retry."""


def sqlite_url(path: Path) -> str:
    return "sqlite:///" + str(path)


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def template(root: Path, units: list[str], cache: Path, scratch: Path) -> Path:
    """The verified template gradebook for ``units`` (built when missing or not what was cached)."""
    import nbgrader

    key = hashlib.sha256(nbgrader.__version__.encode())
    for unit in units:
        key.update(unit.encode() + (root / "solutions" / unit / f"{unit}.ipynb").read_bytes())
    cache.mkdir(parents=True, exist_ok=True)
    db = cache / f"template-{key.hexdigest()[:16]}.db"
    stamp = db.with_suffix(".sha256")
    if db.is_file() and not db.is_symlink() and stamp.is_file() and stamp.read_text().strip() == _digest(db):
        return db
    for old in cache.glob("template-*"):
        old.unlink()
    building = scratch / "template.db"
    prepare(root, units, sqlite_url(building), scratch / "release")
    shutil.move(building, db)
    stamp.write_text(_digest(db) + "\n")
    return db


def prepare(root: Path, units: list[str], db_url: str, scratch: Path) -> None:
    """Create the units' assignments, notebooks and grade cells in a gradebook (idempotent)."""
    from ..release import release

    release(root=root, units=units, release_dir=scratch, db_url=db_url)


def class_gradebook(db_url: str, template_db: Path, root: Path, units: list[str], scratch: Path) -> None:
    """Make the class gradebook hold ``units``: a new SQLite one starts as a copy of the template."""
    path = Path(db_url[len("sqlite:///"):]) if db_url.startswith("sqlite:///") else None
    if path is not None and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(template_db, path)
    elif not _has_units(db_url, units):
        prepare(root, units, db_url, scratch)


def _has_units(db_url: str, units: list[str]) -> bool:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, COURSE_ID) as gradebook:
        try:
            for unit in units:
                gradebook.find_assignment(unit)
        except MissingEntry:
            return False
    return True


class ClassGradebook:
    """The single writer's connection to the class gradebook (a context manager)."""

    def __init__(self, db_url: str, retries: int = RETRIES, pause: float = 0.5):
        self.db_url, self.retries, self.pause = db_url, retries, pause
        self.gradebook = None

    def __enter__(self) -> "ClassGradebook":
        from nbgrader.api import Gradebook

        for attempt in range(self.retries):
            try:
                self.gradebook = Gradebook(self.db_url, COURSE_ID)
                return self
            except Exception as error:  # noqa: BLE001 - locked, refused, ...: retried, then one sentence
                if attempt == self.retries - 1:
                    raise GradingError(f"the class gradebook could not be opened ({type(error).__name__}: "
                                       f"{str(error).splitlines()[0][:200]})") from None
                time.sleep(self.pause * (attempt + 1))

    def __exit__(self, *exc) -> None:
        if self.gradebook is not None:
            self.gradebook.close()
            self.gradebook = None

    def record(self, result: JobResult) -> None:
        """Write one job's scores (0 for every test of a job that was not graded)."""
        error = None
        for attempt in range(self.retries):
            try:
                self._write(result)
                return
            except Exception as caught:  # noqa: BLE001 - any database failure: roll back, retry, then give up
                error = caught
                try:
                    self.gradebook.db.rollback()
                except Exception:  # noqa: BLE001
                    pass
                time.sleep(self.pause * (attempt + 1))
        raise RecordError(f"the gradebook refused the scores ({type(error).__name__}: {str(error).splitlines()[0][:200]})")

    def _write(self, result: JobResult) -> None:
        gradebook = self.gradebook
        gradebook.update_or_create_student(result.student)
        gradebook.update_or_create_submission(result.unit, result.student)
        notebook = gradebook.find_submission_notebook(result.unit, result.unit, result.student)
        for grade in notebook.grades:
            score, _ = result.scores.get(grade.name, (0.0, grade.max_score))
            grade.auto_score = float(min(max(score or 0.0, 0.0), grade.max_score))
            grade.needs_manual_grade = False
        gradebook.db.commit()

    def rows(self) -> dict[tuple[str, str], tuple[float, float]]:
        """(student, unit) -> (score, max_score) for every submission in the gradebook."""
        gradebook, rows = self.gradebook, {}
        gradebook.db.expire_all()
        for assignment in gradebook.assignments:
            for student in gradebook.students:
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except Exception:  # noqa: BLE001 - nbgrader's MissingEntry: never submitted
                    rows[student.id, assignment.name] = (0.0, float(assignment.max_score))
                    continue
                rows[student.id, assignment.name] = (float(submission.score), float(submission.max_score))
        return rows


def csv_safe(value) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ (a formula) gets a quote in front."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_grades_csv(dest: Path, book: ClassGradebook, results: list[JobResult], unrecorded=frozenset()) -> None:
    """grades.csv: this run's records, and every other submission in the gradebook.

    Each recorded job must read back from the gradebook as the run recorded it; a job the
    gradebook refused (``unrecorded``) is written from the run's record, 0 with its reason.
    """
    rows = book.rows()
    for r in results:
        stored = rows.get((r.student, r.unit))
        if (r.student, r.unit) not in unrecorded and (stored is None or abs(stored[0] - r.score) > 1e-9):
            raise GradingError(f"the gradebook disagrees with this run for {r.student}/{r.unit} "
                               f"({stored[0] if stored else 'missing'} against {r.score:g}); grades.csv was not written")
        rows[r.student, r.unit] = (r.score, r.max_score or (stored[1] if stored else 0.0))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for (student, unit), (score, max_score) in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            writer.writerow([csv_safe(unit), csv_safe(student), f"{score:g}", f"{max_score:g}"])
