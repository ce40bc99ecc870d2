"""The course's own functions, loaded from a solution notebook rather than copied from it.

Only the definitions run: from every code cell, the top-level imports, function and class
definitions and assignments of literal constants. Everything else (training, timing, plots,
tests) is left out, so loading is fast and has no side effects.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from gradelib.course import REPO_ROOT

from . import BenchmarkSkipped

__all__ = ["UNIT04", "load_functions"]

UNIT04 = REPO_ROOT / "solutions" / "04_backprop" / "04_backprop.ipynb"
_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _is_definition(node: ast.stmt) -> bool:
    if isinstance(node, _DEFINITIONS):
        return True
    if isinstance(node, ast.Assign):
        try:
            ast.literal_eval(node.value)
        except ValueError:
            return False
        return True
    return False


def _code(source: str) -> str:
    # IPython magics and shell escapes are not Python.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def load_functions(path: Path, names: list[str]) -> dict:
    """The objects ``names`` as defined by the notebook at ``path``.

    Raises BenchmarkSkipped when the notebook or one of the names is missing.
    """
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    if not path.is_file():
        raise BenchmarkSkipped(f"{shown} does not exist yet")
    namespace: dict = {"__name__": f"notebook:{path.stem}"}
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_code(cell.source))
        except SyntaxError:
            continue
        body = [node for node in tree.body if _is_definition(node)]
        if body:
            exec(compile(ast.Module(body=body, type_ignores=[]), f"{path.name}, cell {i}", "exec"), namespace)
    missing = [n for n in names if n not in namespace]
    if missing:
        raise BenchmarkSkipped(f"{shown} does not define {', '.join(missing)}")
    return {n: namespace[n] for n in names}
