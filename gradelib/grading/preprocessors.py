"""The nbgrader preprocessors of a grading run, each one edit to nbgrader's own pipelines.

The pipelines (``job.configure`` places them; each constraint is written beside it there):

* Autograde's sanitize steps: ``RestoreStructure`` right after ``ClearOutput`` and before
  ``OverwriteCells`` (which matches cells by grade_id, so the skeleton must be whole first).
* Autograde's grading steps: ``GradingExecute`` in place of ``Execute``; then
  ``StderrToStdout`` and ``CapOutputs`` before ``SaveAutoGrades`` (which scores a test cell
  0 for any stderr output, and reads what the stored copy will hold).
* GenerateFeedback: ``ClearHiddenTests`` and ``HideTestCode`` right after ``GetGrades``
  (which needs the cells as graded) and before the HTML is written.
"""
from __future__ import annotations

import ast
import secrets
from pathlib import Path

from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, Unicode

from ..bridge.execute import TrustedTestsMixin

from .records import DISRUPTIONS

__all__ = ["CapOutputs", "GradingExecute", "HideTestCode", "RestoreStructure", "SandboxedExecute", "StderrToStdout",
           "DISRUPTIONS", "SENTINEL_PREFIX"]

SENTINEL_PREFIX = "gradelib-test-completed-"


def _graded(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("grade"))


def _test_cell(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return _graded(cell) and not meta.get("solution")


def error_output(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class SandboxedExecute(Execute):
    """nbgrader's Execute in the sandboxed kernel: survive a dead kernel, prove each test ran to its end."""

    imports = Unicode("", help="import lines of the read-only cells, re-run before each test").tag(config=True)
    kernel_cwd = Unicode("", help="the kernel's working folder (its job folder in the sandbox)").tag(config=True)

    async def async_start_new_kernel(self, **kwargs):
        if self.kernel_cwd:  # not the notebook's folder: that is in the grader's private course
            kwargs["cwd"] = self.kernel_cwd
        return await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)  # nbclient binds the sync one to its own

    def preprocess(self, nb, resources=None, km=None):
        self._dead_at = None
        self._nonce = SENTINEL_PREFIX + secrets.token_hex(16)
        return super().preprocess(nb, resources, km)

    def wrap_test_source(self, source: str) -> str:
        """The test, preceded by a repair of the protected modules, followed by the sentinel."""
        lines = ["__import__('gradelib.grading.guard').grading.guard.restore()", self.imports]
        try:
            body = ast.parse(source).body
        except SyntaxError:
            return source
        last = body[-1] if body else None
        if isinstance(last, ast.Expr):  # keep the cell's displayed result
            src = source.splitlines()
            head = "\n".join(src[: last.lineno - 1] + [src[last.lineno - 1][: last.col_offset]])
            expr = ast.get_source_segment(source, last)
            return "\n".join([*lines, head, f"__gradelib_result = ({expr})", f"print({self._nonce!r})",
                              "__gradelib_result"])
        return "\n".join([*lines, source, f"print({self._nonce!r})"])

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._dead_at is not None:
            cell.outputs = [error_output("KernelDied", f"not run: the kernel had stopped at cell {self._dead_at}")]
            return cell, resources
        graded = _graded(cell)
        original = cell.source
        if graded:
            cell.source = self.wrap_test_source(original)
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead_at = index
            cell.outputs.append(error_output("DeadKernelError", "the kernel died while running this cell: the code "
                                             "exited Python (os._exit), crashed it, or ran out of memory"))
        except ValueError as error:  # jupyter_client: a message with a bad signature; the kernel is not trusted again
            if "Signature" not in str(error):
                raise
            self._dead_at = index
            cell.outputs.append(error_output("KernelDied", "the kernel sent a malformed message while running this "
                                             "cell (code in the notebook broke its own kernel), so it was stopped"))
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
            cell.outputs.append(error_output("GradingError", "this test did not run to its end: code in the "
                                             "notebook interfered with it, so it earns no points"))


class GradingExecute(TrustedTestsMixin, SandboxedExecute):
    """The Execute of the grading pipeline: test cells in the trusted interpreter (gradelib.bridge),
    every other cell in the sandboxed learner kernel."""


class StderrToStdout(NbGraderPreprocessor):
    """A test cell passes or fails by its errors only: its stderr text is kept, as stdout.

    nbgrader 0.9.6 scores a test cell 0 for *any* stderr output, so a warning would cost the
    points of a correct answer. Must run before SaveAutoGrades.
    """

    def preprocess_cell(self, cell, resources, index):
        if _graded(cell):
            for output in cell.get("outputs", []):
                if output.output_type == "stream" and output.get("name") == "stderr":
                    output.name = "stdout"
        return cell, resources


class CapOutputs(NbGraderPreprocessor):
    """Bound what the stored notebook and the feedback page hold: big outputs and attachments are cut."""

    max_output_bytes = Integer(200_000, help="largest single output kept").tag(config=True)
    max_attachment_bytes = Integer(200_000, help="largest markdown attachment kept").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.get("attachments"):
            size = sum(len(str(v)) for v in cell.attachments.values())
            if size > self.max_attachment_bytes:
                cell.attachments = {}
                cell.source = f"[gradelib: attachments of {size:,} bytes removed]\n\n" + cell.source
        if cell.cell_type == "code":
            cell.outputs = [self._cap(o) for o in cell.get("outputs", [])]
        return cell, resources

    def _cap(self, output):
        size = len(str(output.get("text", ""))) + sum(len(str(v)) for v in output.get("data", {}).values())
        if size <= self.max_output_bytes or output.output_type == "error":
            return output
        if output.output_type == "stream":
            output.text = output.text[: self.max_output_bytes] + f"\n[gradelib: output cut at {self.max_output_bytes:,} characters]\n"
            return output
        return new_output("stream", name="stdout", text=f"[gradelib: an output of {size:,} bytes was removed]\n")


class RestoreStructure(NbGraderPreprocessor):
    """Rebuild a submission on the release's skeleton: test and read-only cells come from the
    release, in its order, whatever the student deleted, duplicated, edited or reordered; the
    student's solution cells and own cells are kept."""

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
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
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
        if _graded(cell):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
