"""Does `gradelib grade` give every student exactly what they earned, whatever the class submits?

One synthetic class is graded once (module fixture) and then inspected: the reference
solutions, untouched stubs, partial work, and one student per hostile or broken submission.
Each hostile notebook solves some exercises and sabotages others, so its expected score is
exact, and the reference student in the same batch must keep full marks.
"""
from __future__ import annotations

import csv
import json
import re
import textwrap
import warnings

import nbformat
import pytest

from gradelib.course import CODE_STUB, REPO_ROOT, units
from gradelib.grading import grade

UNIT = "01_calculus_recap"
STUB = textwrap.indent(CODE_STUB, "    ")

pytestmark = pytest.mark.slow


def _solution_code(unit: str) -> dict[str, str]:
    """grade_id -> the instructor's solution cell source without the solution markers."""
    nb = nbformat.read(REPO_ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    code = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            code[meta["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
            )
    return code


def learner(unit: str, solved=(), bodies=None) -> nbformat.NotebookNode:
    """The released notebook as a learner would submit it: some exercises solved, some bodies replaced."""
    nb = nbformat.read(REPO_ROOT / "course" / unit / f"{unit}.ipynb", as_version=4)
    solutions = _solution_code(unit)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in (bodies or {}):
            assert STUB in cell.source
            cell.source = cell.source.replace(STUB, textwrap.indent(textwrap.dedent(bodies[grade_id]), "    "))
        elif grade_id in solved or solved == "all":
            if cell.metadata["nbgrader"].get("solution"):
                cell.source = solutions[grade_id]
    return nb


def insert_after(nb, grade_id: str, source: str) -> None:
    """Add a learner's own (ungraded) cell right after the cell ``grade_id``."""
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(textwrap.dedent(source)))


def drop(nb, grade_id: str) -> None:
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]


def cell_with(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


ALL = "all"
WRONG_GRADIENT = {"gradient": "return np.zeros(np.shape(x))"}

# student -> (notebook for UNIT or raw bytes, expected points for UNIT out of 6)
EXPECTED = {"ref": 6, "stub": 0, "partial": 2, "loop": 4, "membomb": 4, "sysexit": 4, "osexit": 2,
            "segfault": 2, "flood": 6, "edited": 2, "shuffled": 6, "patcher": 2, "snoop": 6,
            "badjson": 0, "empty": 0}


def build_class(root, out):
    subs = root / "submissions"

    def put(student, unit, nb_or_bytes):
        path = subs / student / unit / f"{unit}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(nb_or_bytes, bytes):
            path.write_bytes(nb_or_bytes)
        else:
            with warnings.catch_warnings():  # "shuffled" duplicates cells, ids included, on purpose
                warnings.filterwarnings("ignore", message="Non-unique cell id")
                nbformat.write(nb_or_bytes, path)
        return path

    for unit in units():
        put("ref", unit, learner(unit, solved=ALL))
        put("stub", unit, learner(unit))
    put("partial", UNIT, learner(UNIT, solved={"forward_difference", "central_difference"}))
    put("loop", UNIT, learner(UNIT, solved=ALL, bodies={"gradient": "while True:\n    pass"}))
    put("membomb", UNIT, learner(UNIT, solved=ALL, bodies={"gradient": "hoard = []\nwhile True:\n    hoard.append(np.ones(2**24))"}))
    put("sysexit", UNIT, learner(UNIT, solved=ALL, bodies={"gradient": "import sys\nsys.exit(1)"}))
    nb = learner(UNIT, solved=ALL)
    insert_after(nb, "test_central_difference", "import os\nos._exit(0)")
    put("osexit", UNIT, nb)
    nb = learner(UNIT, solved=ALL)
    insert_after(nb, "test_central_difference", "import faulthandler\nfaulthandler._sigsegv()")
    put("segfault", UNIT, nb)
    nb = learner(UNIT, solved=ALL)
    insert_after(nb, "imports", "for i in range(3_000_000):\n    print(i)")
    put("flood", UNIT, nb)

    nb = learner(UNIT, solved={"forward_difference", "central_difference"})
    cell_with(nb, "test_gradient").source = 'print("all good")'
    drop(nb, "test_gradient_descent")
    put("edited", UNIT, nb)

    nb = learner(UNIT, solved=ALL)
    first, rest = nb.cells[:2], nb.cells[2:]
    nb.cells = first + [nbformat.from_dict(json.loads(json.dumps(c))) for c in rest] + rest[::-1]
    put("shuffled", UNIT, nb)

    nb = learner(UNIT, solved={"forward_difference", "central_difference"}, bodies=WRONG_GRADIENT)
    insert_after(nb, "gradient", """
        import builtins, numpy, numpy.testing, gradelib
        numpy.allclose = lambda *a, **k: True
        numpy.array_equal = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        gradelib.check_gradient = lambda *a, **k: None
        check_gradient = lambda *a, **k: None
        builtins.abs = lambda x: 0
        np = numpy
        get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
        import threading, time
        def keep_patching():
            while True:
                numpy.allclose = lambda *a, **k: True
                time.sleep(0.001)
        threading.Thread(target=keep_patching, daemon=True).start()
    """)
    put("patcher", UNIT, nb)

    ref_notebook = subs / "ref" / UNIT / f"{UNIT}.ipynb"
    nb = learner(UNIT, solved=ALL)
    insert_after(nb, "imports", f"""
        import os, shutil, sqlite3, subprocess
        attempts = {{
            "read": lambda: open({str(ref_notebook)!r}).read(),
            "overwrite": lambda: open({str(ref_notebook)!r}, "w").write("{{}}"),
            "gradebook": lambda: open({str(out / "gradebook.db")!r}, "w").write("x"),
            "sqlite": lambda: sqlite3.connect({str(out / "gradebook.db")!r}).execute("drop table grade"),
            "delete": lambda: shutil.rmtree({str(subs / "ref")!r}),
            "shell": lambda: subprocess.run(["rm", "-rf", {str(subs / "ref")!r}]),
            "solutions": lambda: open({str(REPO_ROOT / "solutions" / UNIT / (UNIT + ".ipynb"))!r}).read(),
        }}
        for name, attempt in attempts.items():
            try:
                attempt()
                print(name, "ALLOWED")
            except PermissionError:
                print(name, "blocked")
    """)
    put("snoop", UNIT, nb)
    put("badjson", UNIT, b'{"cells": [ this is not json')
    put("empty", UNIT, b"")
    return subs


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    out = root / "out"
    subs = build_class(root, out)
    run = grade(submissions=subs, out=out, workers=2, timeout=30, memory_mb=1536, progress=False)
    return run, subs, out


def scores(run):
    return {(r.student, r.unit): r.score for r in run.results}


def test_reference_solutions_earn_full_marks_in_every_unit(graded):
    """Does the instructor's solution, submitted as a learner would, earn every point of every unit?"""
    run, _, _ = graded
    for r in run.results:
        if r.student == "ref":
            assert r.status == "graded", (r.unit, r.reason)
            assert r.scores and all(s == m for s, m in r.scores.values()), (r.unit, r.messages)


def test_honest_notebooks_get_no_tampering_notice(graded):
    """Does the tamper repair stay silent for notebooks that patched nothing?"""
    _, _, out = graded
    for notebook in (out / "autograded" / "ref").rglob("*.ipynb"):
        assert "restored what this notebook had replaced" not in notebook.read_text(), notebook


def test_untouched_stubs_earn_nothing(graded):
    """Does a notebook submitted as released score 0 in every unit?"""
    run, _, _ = graded
    stub = [r for r in run.results if r.student == "stub"]
    assert len(stub) == len(units())
    assert all(r.status == "graded" and r.score == 0 for r in stub), [(r.unit, r.scores) for r in stub]


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_student_gets_exactly_what_they_solved(graded, student):
    """Partial, hostile and broken notebooks: exact points for the unit, never more, never an aborted batch."""
    run, _, _ = graded
    result = next(r for r in run.results if r.student == student and r.unit == UNIT)
    assert result.score == EXPECTED[student], (result.status, result.reason, result.messages)


def test_grades_csv_has_one_row_per_student_and_unit(graded):
    """Is grades.csv nbgrader's export, with the scores the run reported (0 where nothing was submitted)?"""
    run, _, out = graded
    with open(out / "grades.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {"student_id", "assignment", "score", "max_score"} <= set(rows[0])
    students = {r.student for r in run.results}
    exported = {(r["student_id"], r["assignment"]): float(r["score"]) for r in rows}
    assert len(rows) == len(exported) == len(students) * len(units())
    expected = {(s, u): 0.0 for s in students for u in units()} | scores(run)
    assert exported == expected
    assert all(float(r["max_score"]) > 0 for r in rows)


def test_hostile_notebooks_leave_other_students_files_and_the_gradebook_alone(graded):
    """Did every attempt to read, write or delete outside the notebook's folder fail?"""
    run, subs, out = graded
    ref = subs / "ref" / UNIT / f"{UNIT}.ipynb"
    assert nbformat.read(ref, as_version=4).cells, "the reference submission was damaged"
    snoop = nbformat.read(out / "autograded" / "snoop" / UNIT / f"{UNIT}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in snoop.cells if c.cell_type == "code" for o in c.get("outputs", []))
    for attempt in ("read", "overwrite", "gradebook", "sqlite", "delete", "shell", "solutions"):
        assert f"{attempt} blocked" in printed, f"{attempt}: {printed[:2000]}"


def feedback(out, student) -> str:
    return (out / "feedback" / student / UNIT / f"{UNIT}.html").read_text()


@pytest.mark.parametrize("student, reason", [
    ("loop", "ran longer than 30 s and was interrupted"), ("membomb", "MemoryError"), ("sysexit", "SystemExit"),
    ("osexit", "the kernel died"), ("segfault", "the kernel died"), ("badjson", "not a valid notebook"),
    ("empty", "empty"), ("patcher", "restored what this notebook had replaced"), ("patcher", "a thread started by this notebook is still running"),
])
def test_feedback_says_why_points_were_lost(graded, student, reason):
    """Does each student's feedback page name what went wrong in their notebook?"""
    _, _, out = graded
    assert reason in feedback(out, student)


def test_feedback_never_shows_hidden_tests(graded):
    """Do the feedback pages show no hidden test code, even where a hidden test failed?"""
    run, _, out = graded
    hidden = []
    for unit in units():
        source = nbformat.read(REPO_ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
        for cell in source.cells:
            for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
                hidden += [line.strip() for line in block.splitlines() if len(line.strip()) > 25]
    assert hidden
    for page in (out / "feedback").rglob("*.html"):
        text = page.read_text()
        assert "HIDDEN TESTS" not in text, page
        leaked = [line for line in hidden if line in text or line.replace('"', "&quot;") in text]
        assert not leaked, f"{page} shows hidden test lines: {leaked[:3]}"


def test_output_floods_are_cut_short(graded):
    """Is a notebook that prints millions of lines stored at a bounded size?"""
    _, _, out = graded
    assert (out / "autograded" / "flood" / UNIT / f"{UNIT}.ipynb").stat().st_size < 5_000_000


def test_class_report_lists_every_exercise(graded):
    """Does the class report give a pass rate for each test cell, as a table and a chart?"""
    run, _, out = graded
    table = (out / "report.md").read_text()
    for r in run.results:
        for grade_id in r.scores:
            assert f"| {r.unit} | {grade_id} |" in table
    assert "badjson" in table and "unreadable" in table
    for student in ("loop", "membomb", "sysexit", "osexit", "segfault", "patcher"):
        assert f"| {student} | {UNIT} | disrupted |" in table, student
    assert "| ref |" not in table
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reports_a_missing_submissions_folder(tmp_path, capsys):
    """Does `gradelib grade` on a folder that does not exist say so and exit 2?"""
    from gradelib.cli import main

    assert main(["grade", "--submissions", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "no submissions folder" in capsys.readouterr().err


def test_regrading_into_an_existing_gradebook_updates_the_scores(tmp_path):
    """Graded once as a stub and again once solved, into one --db gradebook: is the new score recorded?"""
    db = f"sqlite:///{tmp_path / 'class.db'}"
    subs = tmp_path / "submissions"
    path = subs / "dana" / UNIT / f"{UNIT}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(learner(UNIT), path)
    first = grade(submissions=subs, out=tmp_path / "out", db_url=db, workers=1, progress=False)
    nbformat.write(learner(UNIT, solved={"forward_difference", "central_difference", "gradient"}), path)
    second = grade(submissions=subs, out=tmp_path / "out", db_url=db, workers=1, progress=False)
    assert [r.score for r in first.results] == [0] and [r.score for r in second.results] == [4]
    with open(second.grades_csv) as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["student_id"], r["assignment"], float(r["score"])) for r in rows] == [("dana", UNIT, 4.0)]
    assert not (tmp_path / "out" / "gradebook.db").exists(), "--db was given: no second gradebook"


@pytest.mark.parametrize("option, value, words", [("--timeout", "0", "at least 1"), ("--memory-mb", "10", "at least 256")])
def test_cli_refuses_impossible_limits(tmp_path, capsys, option, value, words):
    """Does `gradelib grade` refuse a zero timeout or a tiny memory limit with one clear line?"""
    from gradelib.cli import main

    (tmp_path / "subs").mkdir()
    assert main(["grade", "--submissions", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), option, value]) == 2
    assert words in capsys.readouterr().err
