"""Does each of gradelib's nbgrader preprocessors make exactly its one edit?"""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from gradelib.grading.preprocessors import CapOutputs, HideTestCode, RestoreStructure, SandboxedExecute, StderrToStdout


def meta(grade_id, *, solution=False, grade=False, locked=False):
    return {"nbgrader": {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "points": 1}}


def test_stderr_in_a_test_cell_becomes_stdout_and_nothing_else_changes():
    """A warning in a test cell must not zero it: is it kept, as stdout, and only in graded cells?"""
    test = new_code_cell("t()", metadata=meta("t", grade=True), outputs=[
        new_output("stream", name="stderr", text="UserWarning: careful\n"),
        new_output("error", ename="AssertionError", evalue="wrong", traceback=[])])
    plain = new_code_cell("x", outputs=[new_output("stream", name="stderr", text="learner's own\n")])
    nb, _ = StderrToStdout().preprocess(new_notebook(cells=[test, plain]), {})
    assert [o.get("name") for o in nb.cells[0].outputs] == ["stdout", None]
    assert nb.cells[0].outputs[0].text == "UserWarning: careful\n" and nb.cells[0].outputs[1].ename == "AssertionError"
    assert nb.cells[1].outputs[0].name == "stderr"


def test_big_outputs_and_attachments_are_cut():
    """Are a huge stream cut with a note, a huge image replaced, a huge attachment removed, errors kept?"""
    cap = CapOutputs(max_output_bytes=1000, max_attachment_bytes=1000)
    code = new_code_cell("x", outputs=[
        new_output("stream", name="stdout", text="y" * 5000),
        new_output("display_data", data={"image/png": "A" * 5000, "text/plain": "<Figure>"}),
        new_output("display_data", data={"text/plain": "small"}),
        new_output("error", ename="E", evalue="e" * 5000, traceback=[])])
    md = new_markdown_cell("![a](attachment:a.png)", attachments={"a.png": {"image/png": "B" * 5000}})
    nb, _ = cap.preprocess(new_notebook(cells=[code, md]), {})
    stream, image, small, error = nb.cells[0].outputs
    assert len(stream.text) < 1100 and "output cut" in stream.text
    assert image.output_type == "stream" and "was removed" in image.text
    assert small.data["text/plain"] == "small" and len(error.evalue) == 5000
    assert nb.cells[1].attachments == {} and "attachments of" in nb.cells[1].source


def test_hidden_test_lines_leave_the_traceback():
    """Does a failing test's feedback keep its error line and drop the traceback (which quotes test code)?"""
    cell = new_code_cell("assert secret()", metadata=meta("t", grade=True), outputs=[
        new_output("error", ename="AssertionError", evalue="wrong", traceback=["line: assert secret()", "AssertionError: wrong"])])
    nb, _ = HideTestCode().preprocess(new_notebook(cells=[cell]), {})
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: wrong"]


def test_a_submission_is_rebuilt_on_the_release_skeleton(tmp_path):
    """Reordered, duplicated, edited and deleted cells: given and test cells from the release, the learner's work kept?"""
    release = new_notebook(cells=[
        new_code_cell("import numpy as np", metadata=meta("given", locked=True)),
        new_code_cell("def f():\n    raise NotImplementedError()", metadata=meta("f", solution=True)),
        new_code_cell("assert f() == 1", metadata=meta("test_f", grade=True, locked=True))])
    (tmp_path / "u").mkdir()
    nbformat.write(release, tmp_path / "u" / "u.ipynb")
    submitted = new_notebook(cells=[
        new_code_cell("assert True  # edited test", metadata=meta("test_f", grade=True, locked=True)),
        new_code_cell("def f():\n    return 1", metadata=meta("f", solution=True)),
        new_code_cell("print('mine')"),
        new_code_cell("def f():\n    return 2", metadata=meta("f", solution=True))])
    step = RestoreStructure(release_dir=str(tmp_path))
    nb, _ = step.preprocess(submitted, {"nbgrader": {"assignment": "u"}})
    assert [c.source for c in nb.cells] == ["import numpy as np", "def f():\n    return 1", "print('mine')",
                                            "def f():\n    return 2", "assert f() == 1"]
    assert "nbgrader" not in nb.cells[3].metadata, "a duplicated solution cell is the learner's own cell"


def test_a_wrapped_test_keeps_its_displayed_value_and_ends_with_the_sentinel():
    """Is a test's last expression still its result, and the sentinel printed only if the test ran to its end?"""
    execute = SandboxedExecute()
    execute._nonce = "NONCE"
    wrapped = execute.wrap_test_source("x = 1\nx + 1")
    lines = wrapped.splitlines()
    assert lines[-1] == "__gradelib_result" and "print('NONCE')" in lines[-2] and "__gradelib_result = (x + 1)" in wrapped
    assert execute.wrap_test_source("def broken(:") == "def broken(:"
