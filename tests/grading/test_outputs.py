"""Is everything written under --out where the layout says, bounded, escaped, and honest about isolation?"""
from __future__ import annotations

import nbformat

from gradelib.grading import outputs
from gradelib.grading.outputs import NOT_ISOLATED, Layout, failure_page, publish_feedback, publish_notebook
from gradelib.grading.records import JobResult


def test_layout_names_every_file_in_one_place(tmp_path):
    """Are the per-student files at <kind>/<student>/<unit>/<unit>.<ext>?"""
    layout = Layout(tmp_path)
    assert layout.feedback("ann", "01_a") == tmp_path / "feedback" / "ann" / "01_a" / "01_a.html"
    assert layout.autograded("ann", "01_a") == tmp_path / "autograded" / "ann" / "01_a" / "01_a.ipynb"
    assert layout.grades_csv.name == "grades.csv" and layout.cache.name == ".cache"


def test_failure_page_escapes_the_reason_and_says_when_not_isolated(tmp_path):
    """Does a failure page show the reason as text (no markup from it) and the isolation warning?"""
    layout = Layout(tmp_path)
    result = JobResult("ann", "01_a", "failed", "<script>alert(1)</script> broke")
    failure_page(layout, result, isolated=True)
    page = layout.feedback("ann", "01_a").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "0 points" in page
    assert "WITHOUT isolation" not in page
    failure_page(layout, result, isolated=False)
    assert "WITHOUT isolation" in layout.feedback("ann", "01_a").read_text()


def test_published_feedback_gets_the_banner_only_without_isolation(tmp_path):
    """Is the not-isolated warning put right after <body>, and only when the run was not isolated?"""
    page = tmp_path / "page.html"
    page.write_text("<html><body class='x'><p>feedback</p></body></html>")
    layout = Layout(tmp_path / "out")
    publish_feedback(layout, "ann", "01_a", page, isolated=True)
    assert layout.feedback("ann", "01_a").read_text() == page.read_text()
    publish_feedback(layout, "ann", "01_a", page, isolated=False)
    text = layout.feedback("ann", "01_a").read_text()
    assert text.index("WITHOUT isolation") > text.index("<body") and NOT_ISOLATED[:40] in text


def test_an_oversized_graded_notebook_is_stored_without_outputs(tmp_path, monkeypatch):
    """Does a graded copy over the bound keep its sources and lose outputs and attachments?"""
    monkeypatch.setattr(outputs, "MAX_NOTEBOOK_BYTES", 5_000)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('x')", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="x" * 10_000)])])
    source = tmp_path / "nb.ipynb"
    nbformat.write(nb, source)
    layout = Layout(tmp_path / "out")
    publish_notebook(layout, "ann", "01_a", source)
    stored = nbformat.read(layout.autograded("ann", "01_a"), as_version=4)
    assert stored.cells[0].source == "print('x')" and stored.cells[0].outputs == []
