"""`gradelib check NOTEBOOK`: a learner runs their notebook as the grader would and reads a table.

The notebook runs in a fresh kernel, in its own folder, without being saved. Every visible test
cell is then one row: passed, failed (with the message the test gave), or not attempted (its
exercise still holds the `raise NotImplementedError()` stub). The learner's notebook has no
hidden tests, so a full table means the visible points only; the grader may find more.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .course import CODE_STUB

__all__ = ["CheckError", "CheckReport", "ExerciseResult", "check"]

DEFAULT_TIMEOUT = 60  # seconds per cell


class CheckError(Exception):
    """The notebook could not be checked at all (missing, not a notebook, no tests)."""


@dataclass
class ExerciseResult:
    name: str  # the test cell's grade_id
    points: float
    status: str  # "passed", "failed", "not attempted"
    message: str = ""

    @property
    def earned(self) -> float:
        return self.points if self.status == "passed" else 0.0


@dataclass
class CheckReport:
    notebook: Path
    exercises: list[ExerciseResult]

    @property
    def passed(self) -> bool:
        return all(e.status == "passed" for e in self.exercises)

    def table(self) -> str:
        earned = sum(e.earned for e in self.exercises)
        total = sum(e.points for e in self.exercises)
        done = sum(e.status == "passed" for e in self.exercises)
        width = max(len(e.name) for e in self.exercises)
        lines = [f"{self.notebook.name}: {earned:g} of {total:g} visible points; "
                 f"{done} of {len(self.exercises)} tests pass", ""]
        lines.append(f"  {'test'.ljust(width)}  points  result")
        for e in self.exercises:
            lines.append(f"  {e.name.ljust(width)}  {f'{e.earned:g}/{e.points:g}':>6}  {e.status}")
            for text in e.message.splitlines()[:6]:
                lines.append(f"  {'':{width}}          {text}")
        if not self.passed:
            lines += ["", "Fix the first failing test first: later exercises often build on earlier ones."]
        else:
            lines += ["", "Every visible test passes. Hidden tests may check more when your work is graded."]
        return "\n".join(lines)


def _stubbed(cell) -> bool:
    return CODE_STUB.splitlines()[1] in cell.source


def check(notebook: str | os.PathLike, *, timeout: int = DEFAULT_TIMEOUT) -> CheckReport:
    """Run ``notebook`` in a fresh kernel and report on each visible test (see the module doc)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(notebook)
    if not path.is_file():
        raise CheckError(f"no notebook at {path}")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - whatever the parser says, it is not a notebook
        raise CheckError(f"{path} is not a readable notebook: {error}") from None
    if not any(c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in nb.cells):
        raise CheckError(f"{path} has no graded test cells: is it a course notebook?")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, resources={"metadata": {"path": str(path.parent.resolve())}})
    died = None
    try:
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's start-up chatter is not the learner's business
    except DeadKernelError:
        died = "the kernel died (the notebook exited Python, crashed it, or ran out of memory)"

    results, attempted = [], True
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            attempted = attempted and not _stubbed(cell)
        if not meta.get("grade"):
            continue
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        stderr = [o for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stderr"]
        if cell.get("execution_count") is None and not cell.get("outputs"):
            status, message = "failed", died or "this test did not run"
        elif not errors and not stderr:
            status, message = "passed", ""
        elif not attempted or (errors and errors[0].ename == "NotImplementedError"):
            status, message = "not attempted", ""
        elif errors:
            status, message = "failed", f"{errors[0].ename}: {errors[0].evalue}"
        else:
            status, message = "failed", "the test wrote to stderr (a warning?): " + "".join(o.text for o in stderr)[:300]
        results.append(ExerciseResult(meta["grade_id"], float(meta.get("points", 0)), status, message))
        attempted = True
    return CheckReport(path, results)
