"""`gradelib check NOTEBOOK`: a learner runs their notebook exactly as the grader will, and reads a table.

The grader's own pieces do the work: the notebook is rebuilt on the release's skeleton (test and
given cells from the release, as ``gradelib grade`` does), then run by the grader's
``GradingExecute`` with the grader's per-cell timeout: learner cells in a sandboxed kernel
(bubblewrap; without it, a plain kernel, and the table says so), test cells in the trusted
interpreter, through the bridge. Nothing is saved. Every visible test cell is then one row:
passed, failed (with the message the test gave), timed out, or not attempted (its exercise
still holds the `raise NotImplementedError()` stub). A syntax error or a timeout in the
learner's own cell is reported as what it is, on the test it breaks. The learner's notebook
has no hidden tests, so a full table means the visible points only; the grader may find more.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .course import CODE_STUB, REPO_ROOT

__all__ = ["CheckError", "CheckReport", "ExerciseResult", "check"]

DEFAULT_TIMEOUT = 30  # seconds per cell: the grader's (gradelib.grading.run.DEFAULT_TIMEOUT)


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
    notes: list[str] = field(default_factory=list)

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
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)


def _release_of(unit: str, notebook: Path) -> Path:
    """The released notebook of ``unit``: in the course folder above ``notebook``, here, or beside gradelib."""
    for folder in [*notebook.resolve().parents, Path.cwd(), REPO_ROOT]:
        candidate = folder / "course" / unit / f"{unit}.ipynb"
        if candidate.is_file():
            return candidate
    raise CheckError(f"no released notebook course/{unit}/{unit}.ipynb was found to check {notebook.name} against: "
                     "run gradelib check inside the course folder")


def _run_as_graded(nb, unit: str, release: Path, timeout: int) -> list[str]:
    """Run ``nb`` (in place) as ``gradelib grade`` runs a submission; notes on how it ran."""
    import matplotlib

    from .grading.preprocessors import GradingExecute, RestoreStructure, StderrToStdout
    from .grading.records import Limits
    from .grading.run import DEFAULT_MEMORY_MB
    from .grading.sandbox import bwrap, kernel_manager_class
    from .grading.zygote import Zygote

    RestoreStructure(release_dir=str(release.parent.parent)).preprocess(nb, {"nbgrader": {"assignment": unit}})
    isolated = bwrap() is not None
    notes = [] if isolated else ["bubblewrap (`bwrap`) is not installed, so your notebook ran without the grader's "
                                 "sandbox; the tests ran as the grader runs them"]
    late = f"the cell ran longer than {timeout} s and was interrupted (an endless loop?)"
    limits = Limits(memory_mb=DEFAULT_MEMORY_MB, cpu_seconds=timeout * 40 + 60)
    with tempfile.TemporaryDirectory(prefix="gradelib-check-") as private:
        os.chmod(private, 0o755)
        with Zygote(Path(private) / "slot", limits=limits, isolated=isolated, cache=matplotlib.get_cachedir()) as zygote:
            folder = zygote.job_folder("check")
            execute = GradingExecute(
                timeout=timeout, kernel_manager_class=kernel_manager_class(zygote), kernel_cwd=str(folder),
                error_on_timeout={"ename": "CellTimeoutError", "evalue": late, "traceback": [f"CellTimeoutError: {late}"]})
            execute.preprocess(nb, {"metadata": {"path": str(folder)}})
    StderrToStdout().preprocess(nb, {})  # as graded: a test passes or fails by its errors only
    return notes


def _learner_error(cell):
    """The error a learner's own or solution cell stopped with, if any."""
    return next((o for o in cell.get("outputs", []) if o.output_type == "error"), None)


def check(notebook: str | os.PathLike, *, timeout: int = DEFAULT_TIMEOUT) -> CheckReport:
    """Run ``notebook`` as the grader will and report on each visible test (see the module doc)."""
    import nbformat

    path = Path(notebook)
    if not path.is_file():
        raise CheckError(f"no notebook at {path}")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - whatever the parser says, it is not a notebook
        raise CheckError(f"{path} is not a readable notebook: {error}") from None
    if not any(c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in nb.cells):
        raise CheckError(f"{path} has no graded test cells: is it a course notebook?")
    if not isinstance(timeout, int) or timeout < 1:
        raise CheckError(f"the timeout is in whole seconds per cell, at least 1; got {timeout!r}")
    unit = path.stem
    from .bridge.execute import stop_shared_zygote

    try:
        notes = _run_as_graded(nb, unit, _release_of(unit, path), timeout)
    finally:
        stop_shared_zygote()  # nothing of the check outlives it

    results, attempted, broken = [], True, None
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if not meta.get("grade") or meta.get("solution"):  # the learner's code: did it even run?
            if meta.get("solution"):
                attempted = attempted and CODE_STUB.splitlines()[1] not in cell.source
            error = _learner_error(cell)
            if error is not None and error.ename in ("SyntaxError", "IndentationError", "TabError", "CellTimeoutError"):
                where = meta.get("grade_id") or "of your own"
                evalue = re.sub(r"\(\d+\.py, (line \d+)\)", r"(\1)", error.evalue)  # IPython's cell file name
                broken = broken or (f"your cell {where} did not run: {error.ename}: {evalue}"
                                    if error.ename != "CellTimeoutError" else f"your cell {where} timed out: {error.evalue}")
            if not meta.get("grade"):
                continue
        results.append(_row(cell, meta, attempted, broken))
        attempted, broken = True, None
    return CheckReport(path, results, notes)


def _row(cell, meta, attempted: bool, broken: str | None) -> ExerciseResult:
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    name, points = meta["grade_id"], float(meta.get("points", 0))
    if cell.get("execution_count") is None and not cell.get("outputs"):
        return ExerciseResult(name, points, "failed", "this test did not run (the kernel had stopped)")
    if not errors:
        return ExerciseResult(name, points, "passed")
    late = next((e for e in errors if e.ename == "CellTimeoutError"), None)
    if late is not None:  # after the interrupt's own KeyboardInterrupt
        return ExerciseResult(name, points, "timed out", late.evalue)
    first = errors[0]
    if broken is not None:
        return ExerciseResult(name, points, "failed", broken)
    if not attempted or first.ename == "NotImplementedError":
        return ExerciseResult(name, points, "not attempted")
    return ExerciseResult(name, points, "failed", f"{first.ename}: {first.evalue}")
