"""What a run writes under ``--out``, all in one place, each copy bounded in size.

    out/grades.csv                                   gradebook.write_grades_csv
    out/report.md, report.csv, report.png            report.class_report
    out/gradebook.db                                 the class gradebook (unless --db)
    out/autograded/<student>/<unit>/<unit>.ipynb      the graded notebook (outputs capped)
    out/feedback/<student>/<unit>/<unit>.html         nbgrader's feedback, sanitised, or a failure page
    out/.cache/template-<key>.db (+ .sha256)         the template gradebook

A run without isolation says so at the top of every feedback page and of the report.
"""
from __future__ import annotations

import html
import shutil
from dataclasses import dataclass
from pathlib import Path

from .records import JobResult

__all__ = ["NOT_ISOLATED", "Layout", "failure_page", "publish_feedback", "publish_notebook"]

NOT_ISOLATED = ("This notebook was graded WITHOUT isolation (--no-isolation): its code ran with the grader's "
                "rights, outside the operating-system sandbox.")
MAX_NOTEBOOK_BYTES = 8_000_000  # a stored copy; CapOutputs has already cut big outputs and attachments
MAX_FEEDBACK_BYTES = 8_000_000


@dataclass(frozen=True)
class Layout:
    out: Path

    def autograded(self, student: str, unit: str) -> Path:
        return self.out / "autograded" / student / unit / f"{unit}.ipynb"

    def feedback(self, student: str, unit: str) -> Path:
        return self.out / "feedback" / student / unit / f"{unit}.html"

    @property
    def grades_csv(self) -> Path:
        return self.out / "grades.csv"

    @property
    def report_md(self) -> Path:
        return self.out / "report.md"

    @property
    def report_csv(self) -> Path:
        return self.out / "report.csv"

    @property
    def report_png(self) -> Path:
        return self.out / "report.png"

    @property
    def gradebook(self) -> Path:
        return self.out / "gradebook.db"

    @property
    def cache(self) -> Path:
        return self.out / ".cache"


def _banner(isolated: bool) -> str:
    return "" if isolated else f"<p style='background:#fdd;padding:0.5em;border:1px solid #c00'><b>{html.escape(NOT_ISOLATED)}</b></p>"


def failure_page(layout: Layout, result: JobResult, isolated: bool = True) -> None:
    """The feedback page of a notebook that could not be graded: 0 points and why."""
    page = layout.feedback(result.student, result.unit)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(result.unit)}: feedback</title></head><body>{_banner(isolated)}"
        f"<h1>{html.escape(result.unit)}: 0 points</h1>"
        f"<p>Your notebook could not be graded: {html.escape(result.reason)}</p>"
        "<p>Run <code>gradelib check</code> on it before you submit again.</p></body></html>"
    )


def publish_feedback(layout: Layout, student: str, unit: str, page: Path, isolated: bool = True) -> None:
    """Copy nbgrader's feedback page (sanitised when made, see job.configure) with the isolation banner."""
    text = page.read_text(errors="replace")
    if len(text) > MAX_FEEDBACK_BYTES:
        text = text[:MAX_FEEDBACK_BYTES] + "\n<p>[gradelib: the rest of this page was cut]</p></body></html>"
    if not isolated:
        at = text.find(">", text.find("<body")) + 1 if "<body" in text else 0
        text = text[:at] + _banner(False) + text[at:]
    dest = layout.feedback(student, unit)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)


def publish_notebook(layout: Layout, student: str, unit: str, notebook: Path) -> None:
    """Copy the graded notebook; one over the size bound is kept as its cells' sources only."""
    dest = layout.autograded(student, unit)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if notebook.stat().st_size <= MAX_NOTEBOOK_BYTES:
        shutil.copy(notebook, dest)
        return
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        cell.pop("attachments", None)
        if cell.cell_type == "code":
            cell.outputs = []
    nbformat.write(nb, dest)
