"""Grade a whole class with nbgrader's autograder, in parallel, without letting one notebook hurt another.

Design
------
nbgrader autogrades one notebook at a time and its SQLite gradebook is not safe for concurrent
writers. ``grade`` therefore splits the work:

* **Workers** (``--workers``, default one per core) are long-lived subprocesses. Each job (one
  student, one unit) gets a private nbgrader course folder and a private copy of a template
  gradebook; the worker runs nbgrader's ``Autograde`` and ``GenerateFeedback`` there through
  ``NbGraderAPI`` and reports the scores. The notebook itself runs in a sandboxed kernel
  (``gradelib.sandbox``): memory, CPU and file-size limits, a file-access policy, and tamper
  repair before each cell.
* **One writer**, the calling process, owns the class gradebook (SQLite under ``--out`` by
  default, or any SQLAlchemy URL such as PostgreSQL). It copies each job's scores into it as
  the job finishes, clamped to the points each test is worth.

A worker that dies, hangs past its deadline or is killed by its own kernel costs only its
current job: that student gets 0 for the unit, with the reason in their feedback, and a fresh
worker takes over. Before grading, each submission is rebuilt on the instructor's skeleton
(``RestoreStructure``): test and read-only cells come from the release, in the release's
order, whatever the student deleted, duplicated, edited or reordered; the student's solution
cells and own cells are kept.

Beyond one machine: run ``gradelib grade`` on several machines, each on its share of the
students (``--submissions`` folders split by student), all with ``--db`` pointing at one
PostgreSQL gradebook; each run's single writer makes short transactions, which PostgreSQL
serialises safely.
"""
from __future__ import annotations

import csv
import html
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue

from .course import COURSE_ID, REPO_ROOT, nbgrader_config, tools_on_path, units as course_units

__all__ = ["GradingRun", "JobResult", "grade"]

DEFAULT_TIMEOUT = 30  # seconds per cell, nbgrader's default
DEFAULT_MEMORY_MB = 2048  # address space per notebook kernel
SENTINEL_PREFIX = "gradelib-test-completed-"
FORKSERVER_ENV = "GRADELIB_FORKSERVER"


@dataclass
class JobResult:
    """The outcome of grading one student's notebook for one unit."""

    student: str
    unit: str
    status: str  # "graded", "unreadable", "missing", "failed"
    reason: str = ""
    scores: dict = field(default_factory=dict)  # grade_id -> [score, max_score]
    messages: dict = field(default_factory=dict)  # test grade_id -> "passed" or the error it raised
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(s for s, _ in self.scores.values())

    @property
    def max_score(self) -> float:
        return sum(m for _, m in self.scores.values())


@dataclass
class GradingRun:
    """What ``grade`` did: one result per student and unit, and where it wrote its files."""

    results: list[JobResult]
    out: Path
    grades_csv: Path
    report_md: Path
    report_png: Path
    seconds: float


# --- the instructor's side: jobs, workers, the single writer --------------------------------

@dataclass(frozen=True)
class _Job:
    student: str
    unit: str
    notebook: Path


def _discover(submissions: Path, units: list[str]) -> list[_Job]:
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder at {submissions}")
    jobs = []
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for unit in units:
            if (student_dir / unit).is_dir():
                jobs.append(_Job(student_dir.name, unit, student_dir / unit / f"{unit}.ipynb"))
    return jobs


class _Worker:
    """One long-lived worker subprocess, replaced when it dies or hangs."""

    def __init__(self, env):
        self.env = env
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gradelib.grading", "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=self.env, start_new_session=True,
        )

    def run(self, spec: dict, deadline: float) -> dict | None:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            self.proc.stdin.write(json.dumps(spec) + "\n")
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError
            return json.loads(line)
        except (TimeoutError, EOFError, BrokenPipeError, ValueError):
            self.kill(spec)
            return None

    def kill(self, spec: dict | None = None):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
        pidfile = Path(spec["job_dir"]) / "kernel.pid" if spec else None
        if pidfile and pidfile.is_file():  # the kernel runs in a session of its own
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except (ValueError, ProcessLookupError, PermissionError):
                pass

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class _Progress:
    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled = total, 0, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.started = time.monotonic()

    def update(self, result: JobResult):
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        points = f"{result.score:g}/{result.max_score:g}" if result.scores else result.status
        line = (f"[{bar}] {self.done}/{self.total}  {time.monotonic() - self.started:5.1f}s  "
                f"{result.student}/{result.unit}: {points}")
        if self.tty:
            sys.stderr.write("\r" + line[:120].ljust(120) + ("\n" if self.done == self.total else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _sqlite_url(path: Path) -> str:
    return "sqlite:///" + str(path)


def _prepare_gradebook(root: Path, units: list[str], db_url: str, scratch: Path) -> None:
    """Create the units' assignments, notebooks and grade cells in a gradebook (idempotent)."""
    from .release import release

    release(root=root, units=units, release_dir=scratch, db_url=db_url)


def _gradebooks(root: Path, units: list[str], db_url: str, out: Path, work: Path) -> Path:
    """The jobs' template gradebook (cached by the units' content) and an up-to-date class gradebook.

    nbgrader's generate_assignment takes about a second per unit, so the template is kept in
    ``out/.cache`` keyed by a hash of the source notebooks, and a new SQLite class gradebook
    starts as a copy of it.
    """
    import hashlib

    import nbgrader

    digest = hashlib.sha256(nbgrader.__version__.encode())
    for unit in units:
        digest.update(unit.encode() + (root / "solutions" / unit / f"{unit}.ipynb").read_bytes())
    cache = out / ".cache"
    cache.mkdir(exist_ok=True)
    template = cache / f"template-{digest.hexdigest()[:16]}.db"
    fresh = not template.is_file()
    if fresh:
        for old in cache.glob("template-*.db"):
            old.unlink()
        building = work / "template.db"
        _prepare_gradebook(root, units, _sqlite_url(building), work / "release")
        shutil.move(building, template)
    class_db = Path(db_url[len("sqlite:///"):]) if db_url.startswith("sqlite:///") else None
    if class_db is not None and not class_db.exists():
        class_db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, class_db)
    elif fresh or not _has_units(db_url, units):
        _prepare_gradebook(root, units, db_url, work / "release")
    return template


def _has_units(db_url: str, units: list[str]) -> bool:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, COURSE_ID) as gradebook:
        try:
            for unit in units:
                gradebook.find_assignment(unit)
        except MissingEntry:
            return False
    return True


def _record(gradebook, result: JobResult) -> None:
    """The single writer: copy one job's scores into the class gradebook, clamped to each cell's points."""
    gradebook.update_or_create_student(result.student)
    gradebook.update_or_create_submission(result.unit, result.student)
    notebook = gradebook.find_submission_notebook(result.unit, result.unit, result.student)
    for grade in notebook.grades:
        score, _ = result.scores.get(grade.name, (0.0, grade.max_score))
        grade.auto_score = float(min(max(score or 0.0, 0.0), grade.max_score))
        grade.needs_manual_grade = False
    gradebook.db.commit()


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
) -> GradingRun:
    """Grade every ``<student>/<unit>/<unit>.ipynb`` under ``submissions``; write results to ``out``.

    Writes ``grades.csv`` (nbgrader's export), ``feedback/<student>/<unit>/<unit>.html``,
    ``autograded/<student>/<unit>/<unit>.ipynb``, ``report.md`` and ``report.png`` (pass rate
    per exercise). ``timeout`` is per cell; each notebook also has a wall-clock deadline of
    ``timeout`` times its number of code cells plus a minute.
    """
    from nbgrader.api import Gradebook

    if not isinstance(timeout, int) or timeout < 1:
        raise ValueError(f"timeout is in whole seconds per cell, at least 1; got {timeout!r}")
    if not isinstance(memory_mb, int) or memory_mb < 256:
        raise ValueError(f"memory_mb must be at least 256 (a kernel with numpy needs about 150 MiB); got {memory_mb!r}")
    started = time.monotonic()
    tools_on_path()
    root, submissions, out = Path(root).resolve(), Path(submissions).resolve(), Path(out).resolve()
    jobs = _discover(submissions, list(units) if units is not None else course_units(root))
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "jobs").mkdir(parents=True)
    workers = max(1, workers or os.cpu_count() or 1)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                                      os.environ.get("PYTHONPATH")])))
    _warm_up()
    zygote = _start_forkserver(env)
    if zygote is not None:
        env[FORKSERVER_ENV] = zygote.socket
    pool = [_Worker(env) for _ in range(min(workers, max(len(jobs), 1)))]
    for worker in pool:  # they import nbgrader while the gradebooks are prepared
        worker.start()
    graded_units = sorted({job.unit for job in jobs})  # the class gradebook gains units as they are graded
    db_url = db_url or _sqlite_url(out / "gradebook.db")
    template = _gradebooks(root, graded_units, db_url, out, work)
    cells = {unit: _code_cell_count(root / "course" / unit / f"{unit}.ipynb") for unit in graded_units}
    pending: Queue = Queue()
    for i, job in enumerate(jobs):
        pending.put((i, job))
    finished: Queue = Queue()
    forbidden = [str(submissions), str(out), str(root / "solutions")]

    def serve(worker):
        try:
            while True:
                try:
                    i, job = pending.get_nowait()
                except Empty:
                    return
                spec = {
                    "student": job.student, "unit": job.unit, "notebook": str(job.notebook),
                    "job_dir": str(work / "jobs" / f"{i:05d}"), "template": str(template),
                    "root": str(root), "out": str(out), "timeout": timeout, "memory_mb": memory_mb,
                    "forbidden": forbidden,
                }
                budget = timeout * max(cells[job.unit], 1) + 60
                t0 = time.monotonic()
                raw = worker.run(spec, deadline=t0 + budget)
                if raw is None:
                    result = JobResult(job.student, job.unit, "failed",
                                       f"grading stopped after {budget} s: the notebook hung or crashed its grader")
                    _write_failure_feedback(out, result)
                else:
                    result = JobResult(**raw)
                result.seconds = time.monotonic() - t0
                finished.put(result)
        finally:
            worker.close()

    threads = [threading.Thread(target=serve, args=(worker,), daemon=True) for worker in pool]
    for thread in threads:
        thread.start()
    results = []
    bar = _Progress(len(jobs), progress)
    with Gradebook(db_url, COURSE_ID) as gradebook, warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy session warnings from inside nbgrader
        while len(results) < len(jobs):
            result = finished.get()
            _record(gradebook, result)
            results.append(result)
            bar.update(result)
    for thread in threads:
        thread.join()
    if zygote is not None:
        zygote.stop()
    results.sort(key=lambda r: (r.student, r.unit))

    grades_csv = out / "grades.csv"
    _export_csv(db_url, grades_csv)
    report_md, report_png = _class_report(results, out, root)
    shutil.rmtree(work, ignore_errors=True)
    return GradingRun(results, out, grades_csv, report_md, report_png, time.monotonic() - started)


class _Zygote:
    def __init__(self, proc, folder):
        self.proc, self.folder = proc, folder
        self.socket = os.path.join(folder, "kernels.sock")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def _start_forkserver(env) -> _Zygote | None:
    """Start gradelib.forkserver (kernels without per-notebook imports); None if it cannot start."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="gradelib-")  # short: Unix socket paths are limited to ~100 bytes
    proc = subprocess.Popen([sys.executable, "-m", "gradelib.forkserver", os.path.join(folder, "kernels.sock")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, start_new_session=True)
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    if ready and proc.stdout.readline().strip() == "ready":
        return _Zygote(proc, folder)
    proc.kill()
    shutil.rmtree(folder, ignore_errors=True)
    return None


def _warm_up() -> None:
    """Build matplotlib's font cache here, where writing it is allowed, before any sandboxed kernel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.font_manager  # noqa: F401  (importing it builds the cache)


def _code_cell_count(path: Path) -> int:
    try:
        return sum(c["cell_type"] == "code" for c in json.loads(path.read_text())["cells"])
    except (OSError, ValueError, KeyError):
        return 20


def _export_csv(db_url: str, dest: Path) -> None:
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    with Gradebook(db_url, COURSE_ID) as gradebook:
        CsvExportPlugin(to=str(dest)).export(gradebook)


DISRUPTIONS = ("CellTimeoutError", "DeadKernelError", "KernelDied", "GradingError", "TamperingError", "MemoryError",
               "SystemExit")


def _test_order(root: Path, unit: str) -> list[str]:
    """The unit's test cells, in the order learners meet them."""
    try:
        cells = json.loads((root / "course" / unit / f"{unit}.ipynb").read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return []
    return [c["metadata"]["nbgrader"]["grade_id"] for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def _class_report(results: list[JobResult], out: Path, root: Path = REPO_ROOT) -> tuple[Path, Path]:
    """Per unit: scores; per exercise: pass rate (Markdown, CSV, bar chart); notebooks that misbehaved."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {}
    for result in results:
        for grade_id, (score, max_score) in result.scores.items():
            row = rows.setdefault((result.unit, grade_id), [0, 0, max_score])
            row[0] += score >= max_score
            row[1] += 1
    for result in results:  # students whose notebook could not be graded count as failing everything
        if not result.scores:
            for (unit, grade_id), row in rows.items():
                if unit == result.unit:
                    row[1] += 1
    order = {unit: _test_order(root, unit) for unit in {u for u, _ in rows}}
    ranked = sorted(rows.items(), key=lambda item: (item[0][0], order[item[0][0]].index(item[0][1])
                                                    if item[0][1] in order[item[0][0]] else 10**6, item[0][1]))
    students = sorted({r.student for r in results})
    lines = ["# Class report", "", f"{len(students)} students, {len(results)} notebooks graded.", "",
             "| unit | notebooks | mean score | full marks | zero |", "|---|---:|---:|---:|---:|"]
    for unit in sorted({r.unit for r in results}):
        mine = [r for r in results if r.unit == unit]
        top = max((r.max_score for r in mine), default=0)
        mean = sum(r.score for r in mine) / len(mine)
        full = sum(bool(r.scores) and r.score == top for r in mine)
        lines.append(f"| {unit} | {len(mine)} | {mean:.1f} / {top:g} | {full} | {sum(r.score == 0 for r in mine)} |")
    lines += ["", "| unit | exercise | points | passed | pass rate |", "|---|---|---:|---:|---:|"]
    labels, rates = [], []
    for (unit, grade_id), (passed, total, points) in ranked:
        rate = passed / total if total else 0.0
        lines.append(f"| {unit} | {grade_id} | {points:g} | {passed}/{total} | {rate:.0%} |")
        labels.append(f"{unit[:2]} {grade_id}")
        rates.append(rate)
    problems = []
    for r in results:
        if r.status != "graded":
            problems.append((r, r.status, r.reason))
            continue
        for grade_id, message in r.messages.items():
            if message.split(":")[0] in DISRUPTIONS:
                problems.append((r, "disrupted", f"{grade_id}: {message}"[:300]))
                break
    if problems:
        lines += ["", "## Notebooks that could not be run normally", "",
                  "| student | unit | what happened | first sign |", "|---|---|---|---|"]
        lines += [f"| {r.student} | {r.unit} | {what} | {why.replace('|', '/').replace(chr(10), ' ')} |"
                  for r, what, why in problems]
    report_md = out / "report.md"
    report_md.write_text("\n".join(lines) + "\n")
    with open(out / "report.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["unit", "exercise", "points", "passed", "students", "pass_rate"])
        for (unit, grade_id), (passed, total, points) in ranked:
            writer.writerow([unit, grade_id, points, passed, total, f"{passed / total if total else 0:.4f}"])

    fig, ax = plt.subplots(figsize=(8, 0.32 * max(len(labels), 3) + 1.2))
    ax.barh(range(len(labels)), [100 * r for r in rates],
            color=["tab:green" if r >= 0.7 else "tab:orange" if r >= 0.4 else "tab:red" for r in rates])
    for y, ((_, _), (passed, total, _)) in enumerate(ranked):
        ax.text(1, y, f"{passed}/{total}", va="center", fontsize=7, color="white" if passed else "black")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="students passing (%)", title=f"Pass rate per exercise ({len(students)} students; passed/graded on each bar)")
    fig.tight_layout()
    report_png = out / "report.png"
    fig.savefig(report_png, dpi=120)
    plt.close(fig)
    return report_md, report_png


def _write_failure_feedback(out: Path, result: JobResult) -> None:
    page = out / "feedback" / result.student / result.unit / f"{result.unit}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(result.unit)}: feedback</title></head><body>"
        f"<h1>{html.escape(result.unit)}: 0 points</h1>"
        f"<p>Your notebook could not be graded: {html.escape(result.reason)}</p>"
        "<p>Run <code>gradelib check</code> on it before you submit again.</p></body></html>"
    )


# --- the worker's side: one job in a private nbgrader course ---------------------------------

def _nbgrader_classes():
    """nbgrader preprocessors for the grading run, defined lazily to keep `import gradelib` light."""
    import ast
    import secrets

    from jupyter_client.manager import AsyncKernelManager
    from nbclient.exceptions import DeadKernelError
    from nbformat.v4 import new_output
    from nbgrader.preprocessors import Execute, NbGraderPreprocessor
    from traitlets import Unicode

    class SandboxKernelManager(AsyncKernelManager):
        """Starts the python3 kernel through ``gradelib.sandbox`` with the job's limits."""

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            at = cmd.index("-f") if "-f" in cmd else len(cmd)
            options = json.loads(os.environ["GRADELIB_SANDBOX_OPTIONS"])
            zygote = os.environ.get(FORKSERVER_ENV)
            if zygote and os.path.exists(zygote):  # fork a pre-imported kernel (gradelib.forkserver)
                from .forkserver import CLIENT

                return [sys.executable, "-I", str(CLIENT), zygote, "--", *options, "--", *cmd[at:]]
            return [sys.executable, "-m", "gradelib.sandbox", *options, "--", *cmd[at:]]

    def _error(ename, evalue):
        return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])

    class SandboxedExecute(Execute):
        """nbgrader's Execute, plus: survive a dead kernel, and prove each test ran to its end."""

        imports = Unicode("", help="import lines of the read-only cells, re-run before each test").tag(config=True)

        def preprocess(self, nb, resources=None, km=None):
            self._dead_at = None
            self._nonce = SENTINEL_PREFIX + secrets.token_hex(16)
            return super().preprocess(nb, resources, km)

        def _wrap(self, source: str) -> str:
            """The test, preceded by a repair of the protected modules, followed by the sentinel."""
            lines = ["__import__('gradelib.sandbox').sandbox.restore()", self.imports]
            try:
                body = ast.parse(source).body
            except SyntaxError:
                return source
            last = body[-1] if body else None
            if isinstance(last, ast.Expr):  # keep the cell's displayed result
                src = source.splitlines()
                head = "\n".join(src[: last.lineno - 1] + [src[last.lineno - 1][: last.col_offset]])
                expr = ast.get_source_segment(source, last)
                return "\n".join([*lines, head, f"__gradelib_result = ({expr})", f"print({self._nonce!r})", "__gradelib_result"])
            return "\n".join([*lines, source, f"print({self._nonce!r})"])

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type != "code" or not cell.source.strip():
                return cell, resources
            if self._dead_at is not None:
                cell.outputs = [_error("KernelDied", f"not run: the kernel had stopped at cell {self._dead_at}")]
                return cell, resources
            graded = cell.metadata.get("nbgrader", {}).get("grade", False)
            original = cell.source
            if graded:
                cell.source = self._wrap(original)
            try:
                cell, resources = super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self._dead_at = index
                cell.outputs.append(_error("DeadKernelError", "the kernel died while running this cell: the code "
                                           "exited Python (os._exit), crashed it, or ran out of memory"))
            finally:
                cell.source = original
            if graded:
                self._check_sentinel(cell)
            return cell, resources

        def _check_sentinel(self, cell):
            seen = False
            for output in cell.outputs:
                if output.output_type == "stream" and self._nonce in output.text:
                    seen = True
                    output.text = output.text.replace(self._nonce + "\n", "").replace(self._nonce, "")
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and not o.text)]
            if not seen and not any(o.output_type == "error" for o in cell.outputs):
                cell.outputs.append(_error("GradingError", "this test did not run to its end: code in the "
                                           "notebook interfered with it, so it earns no points"))

    class RestoreStructure(NbGraderPreprocessor):
        """Rebuild a submission on the release's skeleton (see the module docstring)."""

        release_dir = Unicode("", help="folder holding <unit>/<unit>.ipynb as released").tag(config=True)

        def preprocess(self, nb, resources):
            import nbformat

            unit = resources["nbgrader"]["assignment"]
            skeleton = nbformat.read(Path(self.release_dir) / unit / f"{unit}.ipynb", as_version=4)
            roles = {}
            for cell in skeleton.cells:
                meta = cell.metadata.get("nbgrader", {})
                if "grade_id" in meta:
                    roles[meta["grade_id"]] = (cell.cell_type, bool(meta.get("solution")))
            kept, extra, anchor = {}, {}, None
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                grade_id = meta.get("grade_id")
                if grade_id in roles:
                    cell_type, solution = roles[grade_id]
                    if solution and cell.cell_type == cell_type and grade_id not in kept:
                        kept[grade_id] = cell
                        anchor = grade_id
                        continue
                    if not solution:
                        anchor = grade_id  # a given or test cell: the release's copy is used
                        continue
                # the student's own cell, or a duplicate: kept as an ungraded cell where it stood
                cell.metadata.pop("nbgrader", None)
                extra.setdefault(anchor, []).append(cell)
            cells = list(extra.get(None, []))
            for cell in skeleton.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                cells.append(kept.get(grade_id, cell))
                cells.extend(extra.get(grade_id, []))
            nb.cells = cells
            return nb, resources

    class HideTestCode(NbGraderPreprocessor):
        """Feedback shows a failing test's error message, never the test's hidden lines."""

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
                for output in cell.get("outputs", []):
                    if output.output_type == "error":
                        output.traceback = [f"{output.ename}: {output.evalue}"]
            return cell, resources

    return SandboxKernelManager, SandboxedExecute, RestoreStructure, HideTestCode


def _imports_of_given_cells(notebook: Path) -> str:
    """The import statements of a release's read-only code cells, to re-bind before each test."""
    import ast

    lines = []
    for cell in json.loads(notebook.read_text())["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code" or meta.get("solution") or not meta.get("locked"):
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(lines))


def _test_messages(notebook: Path) -> dict:
    import nbformat

    messages = {}
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            first = next((e for e in errors if e.ename in DISRUPTIONS), errors[0] if errors else None)
            messages[meta["grade_id"]] = f"{first.ename}: {first.evalue}"[:600] if first else "passed"
    return messages


def run_job(spec: dict) -> dict:
    """Grade one notebook in its own nbgrader course folder; return a JobResult as a dict."""
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import ClearHiddenTests, Execute

    student, unit = spec["student"], spec["unit"]
    root, out, job = Path(spec["root"]), Path(spec["out"]), Path(spec["job_dir"])
    result = {"student": student, "unit": unit, "status": "graded", "reason": "", "scores": {}, "messages": {}}

    def zero(status, reason):
        result.update(status=status, reason=reason)
        _write_failure_feedback(out, JobResult(**result))
        return result

    source = Path(spec["notebook"])
    if not source.is_file():
        return zero("missing", f"no {unit}.ipynb in the submission")
    data = source.read_bytes()
    if not data.strip():
        return zero("unreadable", "the notebook file is empty")
    try:
        nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as error:  # noqa: BLE001 - any parse failure means "not a notebook"
        return zero("unreadable", f"the file is not a valid notebook ({type(error).__name__}: {str(error)[:200]})")

    course = job / "course"
    submitted = course / "submitted" / student / unit
    submitted.mkdir(parents=True)
    (submitted / f"{unit}.ipynb").write_bytes(data)
    (job / "db").mkdir()
    db = job / "db" / "gradebook.db"
    shutil.copy(spec["template"], db)
    workdir = course / "autograded" / student / unit
    os.environ["GRADELIB_SANDBOX_OPTIONS"] = json.dumps([
        "--memory-mb", str(spec["memory_mb"]), "--cpu-seconds", str(spec["timeout"] * 40 + 60),
        "--writable", str(workdir), *[arg for path in spec["forbidden"] for arg in ("--forbid", path)],
        "--pidfile", str(job / "kernel.pid"),
    ])

    manager, execute, restructure, hide = _nbgrader_classes()
    release = root / "course"
    config = nbgrader_config(root=course, db_url=_sqlite_url(db), source_directory=str(root / "solutions"),
                             release_directory=str(release))
    # nbgrader's own chains, with the submission rebuilt first, Execute sandboxed, hidden tests cleared.
    sanitize = _default(Autograde, "sanitize_preprocessors")
    config.Autograde.sanitize_preprocessors = [*sanitize[:1], restructure, *sanitize[1:]]
    config.Autograde.autograde_preprocessors = [execute if pp is Execute else pp
                                                for pp in _default(Autograde, "autograde_preprocessors")]
    feedback_steps = _default(GenerateFeedback, "preprocessors")
    config.GenerateFeedback.preprocessors = [*feedback_steps[:1], ClearHiddenTests, hide, *feedback_steps[1:]]
    config.RestoreStructure.release_dir = str(release)
    config.SandboxedExecute.timeout = int(spec["timeout"])
    late = f"the cell ran longer than {spec['timeout']} s and was interrupted (an endless loop?)"
    config.SandboxedExecute.error_on_timeout = {"ename": "CellTimeoutError", "evalue": late,
                                                "traceback": [f"CellTimeoutError: {late}"]}
    config.SandboxedExecute.kernel_manager_class = manager
    config.SandboxedExecute.imports = _imports_of_given_cells(release / unit / f"{unit}.ipynb")
    api = NbGraderAPI(CourseDirectory(config=config), config=config)

    graded = api.autograde(unit, student, force=True, create=True)
    if not graded["success"]:
        return zero("failed", "nbgrader could not grade the notebook: " + _last_error(graded.get("log", "")))
    with Gradebook(_sqlite_url(db), COURSE_ID) as gradebook:
        notebook = gradebook.find_submission_notebook(unit, unit, student)
        result["scores"] = {g.name: [float(g.auto_score or 0.0), float(g.max_score)] for g in notebook.grades}
    autograded = workdir / f"{unit}.ipynb"
    result["messages"] = _test_messages(autograded)
    copy = out / "autograded" / student / unit
    copy.mkdir(parents=True, exist_ok=True)
    shutil.copy(autograded, copy / f"{unit}.ipynb")
    feedback = api.generate_feedback(unit, student, force=True)
    page = course / "feedback" / student / unit / f"{unit}.html"
    if feedback["success"] and page.is_file():
        dest = out / "feedback" / student / unit
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, dest / f"{unit}.html")
    return result


def _default(converter, trait: str) -> list:
    """An nbgrader converter's default preprocessor list, e.g. Autograde's sanitize steps."""
    return list(converter.class_traits()[trait].default())


def _last_error(log: str) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors[-1] if errors else lines[-1] if lines else "no log")[-300:]


def _worker_main() -> int:
    """Read job specs (JSON lines) on stdin; answer each with a JSON line on the original stdout."""
    import nbgrader.apps  # noqa: F401  (import the heavy machinery before the first job arrives)
    import nbconvert.preprocessors  # noqa: F401

    protocol = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing a kernel prints can reach the protocol
    for line in sys.stdin:
        spec = json.loads(line)
        try:
            result = run_job(spec)
        except Exception as error:  # noqa: BLE001 - one notebook's failure must not end the run
            result = {"student": spec["student"], "unit": spec["unit"], "status": "failed",
                      "reason": f"the grader failed on this notebook: {type(error).__name__}: {error}"[:400],
                      "scores": {}, "messages": {}}
            _write_failure_feedback(Path(spec["out"]), JobResult(**result))
            traceback.print_exc()
        protocol.write(json.dumps(result) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        sys.exit(_worker_main())
    sys.exit("usage: python -m gradelib.grading --worker (used by `gradelib grade`)")
