"""Running course notebooks in a fresh kernel and reading what each cell raised."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from gradelib.course import REPO_ROOT


def course_notebook(unit: str) -> Path:
    return REPO_ROOT / "course" / unit / f"{unit}.ipynb"


@dataclass
class CellError:
    index: int
    kind: str  # "solution", "test", "locked" or "free": the cell's nbgrader role
    grade_id: str | None
    ename: str
    evalue: str
    source: str


def role(cell) -> str:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("solution"):
        return "solution"
    if meta.get("grade"):
        return "test"
    return "locked" if meta.get("locked") else "free"


def execute_copy(notebook: Path, workdir: Path, *, timeout: int = 120):
    """Execute a copy of ``notebook`` (with its folder's files) in ``workdir``; errors do not stop it."""
    shutil.copytree(notebook.parent, workdir, dirs_exist_ok=True)
    nb = nbformat.read(workdir / notebook.name, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


def errors(nb) -> list[CellError]:
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                found.append(CellError(i, role(cell), grade_id, out["ename"], out["evalue"], cell.source))
    return found
