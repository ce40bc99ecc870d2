"""Feedback pages: never a hidden test, each test named by its exercise, math without a network.

The same checks run on the page nbgrader's own documented path writes (`nbgrader
generate_assignment`, `autograde`, `generate_feedback`, with this repo's nbgrader_config.py,
in a copy of the course) and on the page `gradelib grade` writes.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gradelib.course import REPO_ROOT, nbgrader_config
from gradelib.feedback import HideTestTracebacks, mathjax_script
from gradelib.release import release

UNIT = "01_calculus_recap"
SOLUTION = REPO_ROOT / "solutions" / UNIT / f"{UNIT}.ipynb"
RELEASED = REPO_ROOT / "course" / UNIT / f"{UNIT}.ipynb"


def _test_cells():
    nb = nbformat.read(SOLUTION, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def _hidden_and_visible_lines() -> tuple[list[str], list[str]]:
    """Distinctive code lines inside and outside the hidden-test markers of the unit's tests."""
    hidden, visible = [], []
    for cell in _test_cells():
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif len(line.strip()) > 20 and not line.strip().startswith("#"):
                (hidden if inside else visible).append(line.strip())
    # a line in both places (a shared `with ...:`) proves nothing either way
    return [line for line in hidden if line not in visible], [line for line in visible if line not in hidden]


def _page_text(page: str) -> str:
    """What a reader sees: tags stripped (highlighted code is split into spans), entities decoded."""
    body = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def _exercises() -> dict[str, str]:
    """test grade_id -> the grade_id of the solution cell above it."""
    nb = nbformat.read(SOLUTION, as_version=4)
    names, last = {}, None
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            last = meta["grade_id"]
        elif meta.get("grade"):
            names[meta["grade_id"]] = last
    return names


def assert_safe_feedback_page(page: str) -> None:
    """The properties every feedback page must have (see the module docstring)."""
    text = _page_text(page)
    hidden, visible = _hidden_and_visible_lines()
    assert hidden and visible, "the unit has hidden and visible test lines to look for"
    shown = [line for line in hidden if line in text]
    assert not shown, f"the page shows hidden test lines: {shown[:3]}"
    assert all(line in text for line in visible), "the visible test lines are missing: the check above would prove nothing"
    assert "Test cell" not in text
    for test, exercise in _exercises().items():
        assert f"Exercise {exercise}: test {test}" in text, f"{test} is not named by its exercise {exercise}"
    external = re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=[\"']?(?:https?:)?//[^\"' >]+", page)
    assert not external, f"the page loads from the network: {external[:3]}"
    assert 'id="MathJax-script"' in page and "window.MathJax" in page, "MathJax is not inlined"
    assert page.count('id="MathJax-script"') == 1 and "gradelib-mathjax-" not in page, "MathJax inlined once, in place"
    assert page.index('id="MathJax-script"') < page.index("<body"), "MathJax belongs in the page's head"


def _submissions(folder: Path, released: Path = RELEASED) -> Path:
    """alice hands in the solution, bob the released notebook untouched."""
    for student, source in {"alice": SOLUTION, "bob": released}.items():
        (folder / student / UNIT).mkdir(parents=True)
        shutil.copy(source, folder / student / UNIT / f"{UNIT}.ipynb")
    return folder


@pytest.mark.slow
def test_nbgraders_own_documented_path_is_safe_and_quiet(tmp_path):
    """Do generate_assignment, autograde and generate_feedback work as documented, warn of nothing,
    grade right into grading-out/, and write feedback pages without hidden tests?"""
    course = tmp_path / "course-copy"
    shutil.copytree(REPO_ROOT / "solutions" / UNIT, course / "solutions" / UNIT)
    (released,) = release(root=course, units=[UNIT])  # what learners get, as `make release` makes it
    before = released.read_bytes()
    shutil.copy(REPO_ROOT / "nbgrader_config.py", course)
    _submissions(course / "submitted", released)
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    for step in (["generate_assignment", UNIT], ["autograde", UNIT, "--create"], ["generate_feedback", UNIT]):
        result = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *step], cwd=course, env=env,
                                capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log
        noise = [line for line in log.splitlines()
                 if re.search(r"WARNING|ERROR|Traceback|Warning:", line)
                 # the lessons' figures have no alt text (nbconvert's accessibility notice)
                 and "Alternative text is missing" not in line]
        assert not noise, f"nbgrader {step[0]} warned:\n" + "\n".join(noise)
    assert not (course / "gradebook.db").exists(), "a gradebook.db in the course root"
    assert released.read_bytes() == before, "nbgrader rewrote course/"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'grading-out' / 'gradebook.db'}", "backprop") as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(UNIT)}
    total = sum(c.metadata["nbgrader"]["points"] for c in _test_cells())
    assert scores == {"alice": total, "bob": 0}
    for student in ("alice", "bob"):
        assert_safe_feedback_page((course / "grading-out" / "feedback" / student / UNIT / f"{UNIT}.html").read_text())


@pytest.mark.slow
def test_gradelib_grade_writes_the_same_safe_pages(tmp_path):
    """Does `gradelib grade`, whose nbgrader config comes from nbgrader_config(), write pages just as safe?"""
    from gradelib.grading import grade

    run = grade(submissions=_submissions(tmp_path / "submitted"), out=tmp_path / "out", units=[UNIT], workers=1,
                progress=False)
    assert [r.status for r in run.results] == ["graded", "graded"], [(r.student, r.reason) for r in run.results]
    for student in ("alice", "bob"):
        assert_safe_feedback_page((tmp_path / "out" / "feedback" / student / UNIT / f"{UNIT}.html").read_text())


def test_test_tracebacks_are_cut_to_their_message():
    """Does a test cell's traceback (which quotes test lines) shrink to 'Error: message', other cells' stay?"""
    test = nbformat.v4.new_code_cell("assert secret_check()", metadata={"nbgrader": {"grade": True, "solution": False,
                                                                                     "grade_id": "t", "points": 1}})
    test.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="wrong sign",
                                           traceback=["Traceback", "----> 3 assert secret_check()", "AssertionError: wrong sign"])]
    other = nbformat.v4.new_code_cell("1/0")
    other.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                            traceback=["Traceback", "----> 1 1/0"])]
    nb = nbformat.v4.new_notebook(cells=[test, other])
    nb, _ = HideTestTracebacks().preprocess(nb, {})
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: wrong sign"]
    assert nb.cells[1].outputs[0].traceback == ["Traceback", "----> 1 1/0"]


def test_mathjax_is_one_inline_script_from_a_package():
    """Is the renderer inlined whole (no src), with no '</script' inside that would end it early?"""
    script = str(mathjax_script())
    assert script.count("</script>") == 2 and "src=" not in script.split(">", 2)[0]
    assert len(script) > 1_000_000, "the full MathJax bundle (TeX input, SVG output) is inlined"


def test_feedback_settings_are_serializable_for_the_formgrader():
    """Can the formgrader show the configuration (no class objects in it)?"""
    config = nbgrader_config()
    json.dumps(config)
    assert config.GenerateFeedback.HTMLExporter.template_name == "gradelib_feedback"


def test_the_feedback_exporter_makes_nbconverts_page_with_less_work():
    """FeedbackExporter skips HTMLExporter's BeautifulSoup pass and inlines MathJax last: is the page,
    as a browser parses it, the one nbconvert's own exporter makes with the same settings?"""
    from bs4 import BeautifulSoup
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    from gradelib.feedback import FeedbackExporter, feedback_config

    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    test = {"grade": True, "solution": False, "grade_id": "test_f", "points": 2, "score": 1, "locked": True}
    answer = nbformat.v4.new_code_cell("def f(x):\n    return x < 2 and x > 0  # <img> in code",
                                       metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "f"}})
    answer.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
                      nbformat.v4.new_output("display_data", data={"text/html": "<b>bold</b><IMG src='a.png'>"})]
    checked = nbformat.v4.new_code_cell("assert f(1)", metadata={"nbgrader": test})
    checked.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="f(1) is wrong", traceback=[])]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Math $x^2$, an image <img src='b.png'> and one <img alt='given' src='c.png'>."),
        answer, checked])
    resources = {"nbgrader": {"notebook": UNIT, "score": 1, "max_score": 2, "late_penalty": 0}}
    config = Config({"HTMLExporter": feedback_config().GenerateFeedback.HTMLExporter})
    ours, _ = FeedbackExporter(config=config).from_notebook_node(nb, resources={**resources})
    theirs, _ = HTMLExporter(config=config).from_notebook_node(nb, resources={**resources})
    again, _ = FeedbackExporter(config=config).from_notebook_node(nb, resources={**resources})
    assert again == ours, "a later exporter of the process (compiled templates shared) makes the same page"
    assert ours.count(f'alt="{"No description has been provided for this image"}"') == 3  # output, HTML output, markdown
    assert "alt='given'" in ours or 'alt="given"' in ours
    assert str(BeautifulSoup(ours, "html.parser")) == theirs
