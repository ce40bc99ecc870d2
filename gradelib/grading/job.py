"""One job in a worker: a notebook graded in a private nbgrader course, its kernel sandboxed.

A worker (``python -m gradelib.grading.job``, started by ``pool.Worker``) reads a
``WorkerConfig`` line, then ``JobSpec`` lines on stdin, and answers each with a ``JobResult``
line on its original stdout (nothing a kernel prints can reach it). It owns one zygote
(``zygote.Zygote``) for its whole life; with isolation on and the worker running as root, its
kernels' job folders live on a tmpfs of ``Limits.disk_mb`` in the worker's own mount namespace,
which ends with the worker.

Per job: the submission (already a private copy) goes into ``<course>/submitted``, the verified
template gradebook is copied in, and nbgrader's ``Autograde`` and ``GenerateFeedback`` run with
the pipeline edits of ``gradelib.grading.preprocessors``; the scores are read back from the
job's own gradebook.
"""
from __future__ import annotations

import os
import shutil
import sys
import traceback
from pathlib import Path

from ..course import COURSE_ID, nbgrader_config
from .gradebook import sqlite_url
from .outputs import Layout, failure_page, publish_feedback, publish_notebook
from .records import DISRUPTIONS, JobResult, JobSpec, WorkerConfig

__all__ = ["configure", "run_job", "worker_main"]


def _steps(config, converter, trait: str) -> list:
    """A converter's preprocessor list as the course configures it (nbgrader_config), else nbgrader's default."""
    configured = config[converter.__name__].get(trait)
    return list(configured) if configured else list(converter.class_traits()[trait].default())


def _at(steps: list, name: str) -> int:
    """Where the step called ``name`` (a class or an import path) is in ``steps``."""
    names = [(step if isinstance(step, str) else f"{step.__module__}.{step.__qualname__}").rsplit(".", 1)[-1]
             for step in steps]
    return names.index(name)


def configure(spec: JobSpec, zygote, kernel_cwd: Path):
    """The nbgrader config of one job: nbgrader's own pipelines with gradelib's edits placed."""
    from nbconvert.preprocessors.sanitize import SanitizeHTML
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.preprocessors import ClearHiddenTests

    from . import preprocessors as pp
    from .sandbox import kernel_manager_class

    root, course = Path(spec.root), Path(spec.course)
    release = root / "course"
    config = nbgrader_config(root=course, db_url=sqlite_url(course / "gradebook.db"),
                             source_directory=str(root / "solutions"), release_directory=str(release))
    # nbgrader_config's chains (the course's own edits included), with gradelib's edits placed:
    sanitize = _steps(config, Autograde, "sanitize_preprocessors")
    # RestoreStructure after ClearOutput, before OverwriteCells (which matches cells by grade_id).
    sanitize.insert(_at(sanitize, "ClearOutput") + 1, pp.RestoreStructure)
    config.Autograde.sanitize_preprocessors = sanitize
    steps = _steps(config, Autograde, "autograde_preprocessors")
    steps[_at(steps, "Execute")] = pp.GradingExecute
    # StderrToStdout and CapOutputs right after Execute: before SaveAutoGrades scores the cells.
    at = _at(steps, "GradingExecute") + 1
    steps[at:at] = [pp.StderrToStdout, pp.CapOutputs]
    assert _at(steps, "StderrToStdout") < _at(steps, "SaveAutoGrades")
    config.Autograde.autograde_preprocessors = steps
    feedback = _steps(config, GenerateFeedback, "preprocessors")
    # After GetGrades (which needs the cells as graded), before the page's CSS and rendering: hidden
    # tests cleared (unless the course's chain does it), tracebacks cut, then SanitizeHTML, so no
    # script from a student's markdown or outputs runs in the page.
    at = _at(feedback, "GetGrades") + 1
    hides = any(name.startswith("ClearHiddenTests") for name in
                ((s if isinstance(s, str) else s.__name__).rsplit(".", 1)[-1] for s in feedback))
    feedback[at:at] = [*([] if hides else [ClearHiddenTests]), pp.HideTestCode, SanitizeHTML]
    config.GenerateFeedback.preprocessors = feedback
    config.SanitizeHTML.enabled = True  # nbconvert's preprocessors are off unless enabled
    config.RestoreStructure.release_dir = str(release)
    execute = config.GradingExecute
    execute.timeout = int(spec.timeout)
    late = f"the cell ran longer than {spec.timeout} s and was interrupted (an endless loop?)"
    execute.error_on_timeout = {"ename": "CellTimeoutError", "evalue": late, "traceback": [f"CellTimeoutError: {late}"]}
    execute.shutdown_kernel = "immediate"  # the kernel is discarded: no need to wait for it to stop itself
    execute.kernel_manager_class = kernel_manager_class(zygote)
    execute.kernel_cwd = str(kernel_cwd)
    execute.imports = _imports_of_given_cells(release / spec.unit / f"{spec.unit}.ipynb")
    return config


def _imports_of_given_cells(notebook: Path) -> str:
    """The import statements of a release's read-only code cells, to re-bind before each test."""
    import ast
    import json

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


def test_messages(notebook: Path) -> dict:
    """test grade_id -> "passed" or its first error (a disruption first), as the report shows it."""
    import nbformat

    messages = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            first = next((e for e in errors if e.ename in DISRUPTIONS), errors[0] if errors else None)
            messages[meta["grade_id"]] = f"{first.ename}: {first.evalue}"[:600] if first else "passed"
    return messages


def run_job(spec: JobSpec, zygote) -> JobResult:
    """Grade one notebook in its own nbgrader course folder (see the module doc)."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    student, unit, course = spec.student, spec.unit, Path(spec.course)
    layout = Layout(Path(spec.out))
    submitted = course / "submitted" / student / unit
    submitted.mkdir(parents=True)
    shutil.copy(spec.notebook, submitted / f"{unit}.ipynb")
    shutil.copy(spec.template, course / "gradebook.db")
    kernel_cwd = zygote.job_folder(Path(spec.course).name)  # short: socket paths are limited
    try:
        config = configure(spec, zygote, kernel_cwd)
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        graded = api.autograde(unit, student, force=True, create=True)
        if not graded["success"]:
            return _failed(spec, layout, "nbgrader could not grade the notebook: " + _last_error(graded.get("log", "")))
        with Gradebook(sqlite_url(course / "gradebook.db"), COURSE_ID) as gradebook:
            notebook = gradebook.find_submission_notebook(unit, unit, student)
            scores = {g.name: [float(g.auto_score or 0.0), float(g.max_score)] for g in notebook.grades}
        autograded = course / "autograded" / student / unit / f"{unit}.ipynb"
        result = JobResult(student, unit, "graded", scores=scores, messages=test_messages(autograded))
        publish_notebook(layout, student, unit, autograded)
        feedback = api.generate_feedback(unit, student, force=True)
        page = course / "feedback" / student / unit / f"{unit}.html"
        if feedback["success"] and page.is_file():
            publish_feedback(layout, student, unit, page, spec.isolated)
        return result
    finally:
        shutil.rmtree(kernel_cwd, ignore_errors=True)


def _failed(spec: JobSpec, layout: Layout, reason: str, retry: bool = False) -> JobResult:
    result = JobResult(spec.student, spec.unit, "failed", reason[:400], retry=retry)
    failure_page(layout, result, spec.isolated)
    return result


def _last_error(log: str) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors[-1] if errors else lines[-1] if lines else "no log")[-300:]


def _private_job_disk(config: WorkerConfig) -> None:
    """A tmpfs of Limits.disk_mb for the kernels' job folders, in this worker's own mount namespace."""
    from .sandbox import _CLONE_NEWNS, _MS_NODEV, _MS_NOSUID, _MS_PRIVATE, _MS_REC, mount, unshare

    if not config.isolated or os.geteuid() != 0:
        return  # without root: Limits.file_mb per file is the only bound (see the README)
    unshare(_CLONE_NEWNS)
    mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    jobs = Path(config.folder) / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    mount("tmpfs", str(jobs), "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={config.limits.disk_mb}m,mode=0755")


def worker_main() -> int:
    """Read a WorkerConfig, then JobSpec lines; answer each with a JobResult line on the original stdout."""
    from ..startup import skip_unused_imports

    skip_unused_imports()
    import matplotlib
    import nbconvert.preprocessors  # noqa: F401  (the heavy machinery, before the first job arrives)
    import nbgrader.apps  # noqa: F401

    from ..bridge.execute import prepare_trusted_kernel, start_shared_zygote
    from .zygote import Zygote

    protocol = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing a kernel or nbgrader prints can reach the protocol
    config = WorkerConfig.from_json(sys.stdin.readline())
    _private_job_disk(config)
    cache = matplotlib.get_cachedir()
    # The trusted kernels' zygote imports while the learners' does (about a second each), and the trusted
    # kernel is ready before the first job arrives. Both from this thread: a zygote dies with its thread.
    start_shared_zygote()
    zygote = Zygote(config.folder, limits=config.limits, isolated=config.isolated, cache=cache).__enter__()
    prepare_trusted_kernel()
    try:
        for line in sys.stdin:
            spec = JobSpec.from_json(line)
            if not zygote.alive():  # replaced; the job it broke is retried by the run
                zygote.__exit__(None, None, None)
                zygote = Zygote(config.folder, limits=config.limits, isolated=config.isolated, cache=cache).__enter__()
            try:
                result = run_job(spec, zygote)
                if not zygote.alive():
                    result = _failed(spec, Layout(Path(spec.out)), "the kernel zygote stopped during grading", retry=True)
            except Exception as error:  # noqa: BLE001 - one notebook's failure must not end the run
                traceback.print_exc()
                result = _failed(spec, Layout(Path(spec.out)),
                                 f"the grader failed on this notebook: {type(error).__name__}: {error}")
            protocol.write(result.to_json() + "\n")
            protocol.flush()
    finally:
        zygote.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
