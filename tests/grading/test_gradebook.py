"""Is the template cache verified, does the single writer survive database errors, is grades.csv safe?"""
from __future__ import annotations

import csv
import sqlite3

import nbformat
import pytest

from gradelib.grading.gradebook import ClassGradebook, RecordError, csv_safe, sqlite_url, template, write_grades_csv
from gradelib.grading.records import GradingError, JobResult

UNIT = "00_tiny"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A one-exercise nbgrader course."""
    root = tmp_path_factory.mktemp("course")
    meta = {"schema_version": 3, "locked": False, "solution": True, "grade": False, "grade_id": "square"}
    test = {"schema_version": 3, "locked": True, "solution": False, "grade": True, "grade_id": "test_square", "points": 2}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                                  metadata={"nbgrader": meta}),
        nbformat.v4.new_code_cell("assert square(3) == 9", metadata={"nbgrader": test})])
    (root / "solutions" / UNIT).mkdir(parents=True)
    nbformat.write(nb, root / "solutions" / UNIT / f"{UNIT}.ipynb")
    return root


@pytest.fixture
def class_db(course, tmp_path):
    cached = template(course, [UNIT], tmp_path / "cache", tmp_path)
    db = tmp_path / "class.db"
    db.write_bytes(cached.read_bytes())
    return db


def test_the_template_cache_is_used_only_while_its_hash_holds(course, tmp_path):
    """Is a cached template reused as is, and rebuilt when its file was changed behind the cache's back?"""
    first = template(course, [UNIT], tmp_path / "cache", tmp_path)
    stamp = first.stat().st_mtime_ns
    assert template(course, [UNIT], tmp_path / "cache", tmp_path).stat().st_mtime_ns == stamp
    with sqlite3.connect(first) as db:  # a trigger planted in the cache
        db.execute("CREATE TRIGGER planted AFTER INSERT ON student BEGIN SELECT 1; END")
    rebuilt = template(course, [UNIT], tmp_path / "cache", tmp_path)
    with sqlite3.connect(rebuilt) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone() == (0,)


@pytest.mark.slow
def test_the_writer_retries_then_gives_up_on_one_job_only(class_db):
    """With the gradebook locked by someone else: RecordError for that job, and the next write works?"""
    with ClassGradebook(sqlite_url(class_db), retries=2, pause=0.05) as book:
        blocker = sqlite3.connect(class_db, timeout=0.1)
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(RecordError, match="gradebook refused"):
            book.record(JobResult("ann", UNIT, "graded", scores={"test_square": [2.0, 2.0]}))
        blocker.rollback()
        blocker.close()
        book.record(JobResult("bob", UNIT, "graded", scores={"test_square": [5.0, 2.0]}))  # clamped to 2
        assert book.rows()[("bob", UNIT)] == (2.0, 2.0)


def test_grades_csv_agrees_with_the_gradebook_or_is_not_written(class_db, tmp_path):
    """Does grades.csv hold the run's records, and refuse to exist when the gradebook says otherwise?"""
    ok = JobResult("=cmd|' /C calc'!A0", UNIT, "graded", scores={"test_square": [2.0, 2.0]})
    with ClassGradebook(sqlite_url(class_db)) as book:
        book.record(ok)
        write_grades_csv(tmp_path / "grades.csv", book, [ok])
        with open(tmp_path / "grades.csv") as fh:
            rows = list(csv.DictReader(fh))
        assert rows == [{"assignment": UNIT, "student_id": "'=cmd|' /C calc'!A0", "score": "2", "max_score": "2"}]
        liar = JobResult("=cmd|' /C calc'!A0", UNIT, "graded", scores={"test_square": [1.0, 2.0]})
        with pytest.raises(GradingError, match="disagrees"):
            write_grades_csv(tmp_path / "other.csv", book, [liar])
    assert not (tmp_path / "other.csv").exists()


@pytest.mark.parametrize("value, shown", [("ann", "ann"), ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"),
                                          ("@SUM(A1)", "'@SUM(A1)"), (3.5, "3.5")])
def test_csv_fields_are_never_formulas(value, shown):
    """Does every field that a spreadsheet would run as a formula get a leading quote?"""
    assert csv_safe(value) == shown
