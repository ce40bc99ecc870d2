"""The run: submissions checked, jobs handed to the worker pool, one writer for the class gradebook.

``grade`` owns everything it starts through one ``ExitStack``: the private temporary folder
(short, under the system's temp folder, for Unix socket paths), the worker pool (each worker
owns its zygote and kernels), the class gradebook connection. On success, on an error and on
Ctrl-C they are all closed and removed before ``grade`` returns or raises.
"""
from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
import warnings
from contextlib import ExitStack
from pathlib import Path

from ..course import REPO_ROOT, tools_on_path, units as course_units
from .gradebook import ClassGradebook, RecordError, class_gradebook, sqlite_url, template, write_grades_csv
from .intake import intake
from .outputs import Layout, failure_page
from .pool import Pool, worker_env
from .records import GradingError, GradingRun, JobResult, JobSpec, Limits, WorkerConfig

__all__ = ["DEFAULT_MEMORY_MB", "DEFAULT_TIMEOUT", "KERNEL_UIDS", "grade"]

DEFAULT_TIMEOUT = 30  # seconds per cell, nbgrader's default
DEFAULT_MEMORY_MB = 2048  # address space per notebook kernel
KERNEL_UIDS = (100_000, 1_000_000_000)  # a run's kernels get unused uids from here: one per worker, fresh per run


def _check_options(workers, timeout, memory_mb) -> None:
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
        raise GradingError(f"timeout is in whole seconds per cell, at least 1; got {timeout!r}")
    if not isinstance(memory_mb, int) or isinstance(memory_mb, bool) or memory_mb < 256:
        raise GradingError(f"memory_mb must be at least 256 (a kernel with numpy needs about 150 MiB); got {memory_mb!r}")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise GradingError(f"workers must be at least 1; got {workers!r}")


def _warm_up() -> None:
    """Build matplotlib's font cache here, where writing it is allowed, before any sandboxed kernel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.font_manager  # noqa: F401  (importing it builds the cache)


def _code_cells(path: Path) -> int:
    import json

    try:
        return sum(c["cell_type"] == "code" for c in json.loads(path.read_text())["cells"])
    except (OSError, ValueError, KeyError):
        return 20


def _short_tmp() -> str:
    """A temporary folder short enough for Unix socket paths (about 100 bytes) in the kernels' job folders."""
    found = tempfile.gettempdir()
    return found if len(found) <= 40 else "/tmp"


class _Progress:
    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled = total, 0, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.started = time.monotonic()

    def update(self, result: JobResult) -> None:
        self.done += 1
        if not self.enabled:
            return
        filled = int(30 * self.done / max(self.total, 1))
        points = f"{result.score:g}/{result.max_score:g}" if result.scores else result.status
        line = (f"[{'#' * filled}{'-' * (30 - filled)}] {self.done}/{self.total}  "
                f"{time.monotonic() - self.started:5.1f}s  {result.student}/{result.unit}: {points}")
        end = "\n" if self.done == self.total or not self.tty else ""
        sys.stderr.write(("\r" + line[:120].ljust(120) if self.tty else line) + end)
        sys.stderr.flush()


def grade(
    *,
    submissions: str | os.PathLike,
    out: str | os.PathLike,
    workers: int | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    db_url: str | None = None,
    root: str | os.PathLike = REPO_ROOT,
    units: list[str] | None = None,
    progress: bool = True,
    isolation: bool = True,
) -> GradingRun:
    """Grade every ``<student>/<unit>/<unit>.ipynb`` under ``submissions``; write results to ``out``.

    Writes ``grades.csv``, ``feedback/<student>/<unit>/<unit>.html``,
    ``autograded/<student>/<unit>/<unit>.ipynb``, ``report.md`` and ``report.png`` (see
    ``gradelib.grading.outputs``). ``timeout`` is per cell; each notebook also has a deadline of
    ``timeout`` times its number of code cells plus a minute. ``isolation=False`` runs kernels
    without the operating-system sandbox, and every page says so. Raises ``GradingError``
    (one sentence) when the run cannot start or finish.
    """
    _check_options(workers, timeout, memory_mb)
    if isolation:
        from .sandbox import require_bwrap

        require_bwrap()
    root, submissions, out = Path(root).resolve(), Path(submissions).resolve(), Path(out).resolve()
    known = course_units(root)
    if not known:
        raise GradingError(f"no course at {root}: expected solutions/<unit>/<unit>.ipynb")
    selected = list(units) if units is not None else known
    unknown = [u for u in selected if u not in known]
    if unknown:
        raise GradingError(f"unknown units: {', '.join(unknown)}; the course's units are {', '.join(known)}")
    started = time.monotonic()
    tools_on_path()
    layout = Layout(out)
    with ExitStack() as stack:
        private = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gradelib-")))
        os.chmod(private, 0o700)
        accepted, refused = intake(submissions, known, selected, private / "submissions")
        out.mkdir(parents=True, exist_ok=True)
        for result in refused:
            failure_page(layout, result, isolation)
        _warm_up()
        count = max(1, min(workers or os.cpu_count() or 1, len(accepted)))
        # Each worker's kernels have a user of their own, so a process limit (counted per user) held by one
        # notebook's fork bomb cannot starve another worker's kernel, nor a concurrent run's.
        base = KERNEL_UIDS[0] + secrets.randbelow((KERNEL_UIDS[1] - KERNEL_UIDS[0]) // 64) * 64
        limits = [Limits(memory_mb=memory_mb, cpu_seconds=timeout * 40 + 60, uid=base + k) for k in range(count)]
        slots = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gl-", dir=_short_tmp())))
        configs = [WorkerConfig(k, str(slots / f"w{k}"), limits[k], isolation) for k in range(count)]
        (slots / "tmp").mkdir()
        pool = stack.enter_context(Pool(configs if accepted else [], worker_env(slots / "tmp")))
        graded_units = sorted({a.unit for a in accepted} | {r.unit for r in refused})
        unreleased = [u for u in graded_units if not (root / "course" / u / f"{u}.ipynb").is_file()]
        if unreleased:
            raise GradingError(f"not released yet: {', '.join(unreleased)}; run `gradelib release {' '.join(unreleased)}` first")
        db_url = db_url or sqlite_url(layout.gradebook)
        template_db = template(root, graded_units, layout.cache, private)
        class_gradebook(db_url, template_db, root, graded_units, private / "class-release")
        budgets = {u: timeout * max(_code_cells(root / "course" / u / f"{u}.ipynb"), 1) + 60 for u in graded_units}
        specs = [(JobSpec(a.student, a.unit, str(a.notebook), str(private / "courses" / f"{i:05d}"), str(template_db),
                          str(root), str(out), timeout, isolation), budgets[a.unit]) for i, a in enumerate(accepted)]

        def lost(spec: JobSpec, reason: str) -> JobResult:
            result = JobResult(spec.student, spec.unit, "failed", reason)
            failure_page(layout, result, isolation)
            return result

        pool.submit(specs, lost)
        bar = _Progress(len(accepted) + len(refused), progress)
        book = stack.enter_context(ClassGradebook(db_url))
        warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy session warnings from inside nbgrader
        results, unrecorded = [], set()
        for result in [*refused, *(pool.next_result() for _ in accepted)]:
            try:
                book.record(result)
            except RecordError as error:  # that job's loss, not the batch's
                result = JobResult(result.student, result.unit, "failed", str(error), seconds=result.seconds)
                failure_page(layout, result, isolation)
                unrecorded.add((result.student, result.unit))
            results.append(result)
            bar.update(result)
        results.sort(key=lambda r: (r.student, r.unit))
        write_grades_csv(layout.grades_csv, book, results, unrecorded)
        from .report import class_report

        report_md, report_png = class_report(results, layout, root, isolation)
    return GradingRun(results, out, layout.grades_csv, report_md, report_png, time.monotonic() - started, isolation)
