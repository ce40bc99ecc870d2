"""The learner simulator: run a unit's notebook with some exercises replaced, and read every test's verdict.

A *case* is one learner's version of one exercise: a realistic mistake (which must fail a
visible test of its own exercise, with the right words, and no test of any other exercise)
or a correct variant (which must pass every test, hidden parts included). Cases live in
``tests/learnersim_cases/unit_XX.py`` as tables; ``tests/test_learnersim.py`` runs them.

How a notebook is simulated: the solution notebook's code cells run in order in a fresh
namespace, in a forked child process (so nothing a variant does leaks into pytest), with
matplotlib's Agg backend and IPython's ``display`` available. Solution cells run the
reference code unless the case replaces them; given cells run as written (their errors are
ignored: they are not graded) unless tagged ``sim-skip`` (expensive demonstrations no test
depends on); every test cell runs twice, first its visible part (what the learner sees),
then the whole cell (hidden tests included), and its verdict is recorded: passed, or the
exception it raised, or the warning or stderr text it wrote (nbgrader scores a test cell
that writes to stderr 0, so the simulator counts that as a failure too).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import textwrap
import traceback
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import nbformat

from gradelib.course import REPO_ROOT

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)
CELL_TIMEOUT = 60  # seconds per cell: an endless loop in a variant fails its test instead of hanging


@dataclass(frozen=True)
class Case:
    """One learner's version of one exercise.

    - exercise: the grade_id of the solution cell it replaces
    - label: a readable id, e.g. "= instead of += in __mul__"
    - code: the whole new cell source, or None to edit the reference solution with ``replace``
    - replace: (old, new) pairs applied to the reference solution's source, each must match
    - fails: for a mistake, the grade_id of the test whose visible part must fail; None for a
      correct variant (every test must pass)
    - says: a regular expression the failing message must match (case-insensitive)
    - also_fails: grade_ids of other tests that may fail, but only by naming this exercise as
      a prerequisite to fix first (``gradelib.testing.prerequisite``)
    """

    exercise: str
    label: str
    code: str | None = None
    replace: tuple = ()
    fails: str | None = None
    says: str = ""
    also_fails: tuple = ()

    def source(self, reference: str) -> str:
        if self.code is not None:
            return textwrap.dedent(self.code).strip() + "\n"
        pairs = self.replace if self.replace and isinstance(self.replace[0], tuple) else (self.replace,)
        out = reference
        for old, new in pairs:
            if old not in out:
                raise ValueError(f"case {self.label!r}: {old!r} is not in the reference solution of {self.exercise}")
            out = out.replace(old, new)
        if out == reference:
            raise ValueError(f"case {self.label!r} changes nothing")
        return out


@dataclass
class Verdict:
    """What one test cell did: ``visible`` and ``full`` are None when that part passed, else the failure."""

    test: str
    visible: str | None
    full: str | None

    @property
    def passed(self) -> bool:
        return self.visible is None and self.full is None


@dataclass
class Cell:
    role: str  # "solution", "test", "given"
    grade_id: str | None
    source: str
    skip: bool = False


def cells(unit: str) -> list[Cell]:
    nb = nbformat.read(REPO_ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        role = "solution" if meta.get("solution") else "test" if meta.get("grade") else "given"
        skip = "sim-skip" in cell.metadata.get("tags", [])
        found.append(Cell(role, meta.get("grade_id"), cell.source, skip))
    return found


def solutions(unit: str) -> dict[str, str]:
    return {c.grade_id: c.source for c in cells(unit) if c.role == "solution"}


def tests(unit: str) -> list[str]:
    return [c.grade_id for c in cells(unit) if c.role == "test"]


def _python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


class _Timeout(Exception):
    pass


def _alarm(*_):
    raise _Timeout(f"the cell ran for more than {CELL_TIMEOUT} s")


def _run(code: str, namespace: dict) -> str | None:
    """Execute ``code``; None if it ran cleanly, else what went wrong in one line."""
    stderr = io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CELL_TIMEOUT)
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr), \
                contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("always")
            exec(compile(_python(code), "<cell>", "exec"), namespace)
    except _Timeout as exc:
        return f"Timeout: {exc}"
    except BaseException as exc:  # noqa: BLE001 - a variant may raise anything, SystemExit included
        return f"{type(exc).__name__}: {exc}"
    finally:
        signal.alarm(0)
    if caught:
        return f"stderr: {caught[0].category.__name__}: {caught[0].message}"
    if stderr.getvalue().strip():
        return f"stderr: {stderr.getvalue().strip()[:300]}"
    return None


def _simulate_here(unit: str, replacements: dict[str, str]) -> list[dict]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.display import display

    os.chdir(REPO_ROOT / "solutions" / unit)
    namespace = {"__name__": "__main__", "display": display}
    verdicts = []
    for cell in cells(unit):
        if cell.skip:
            continue
        if cell.role == "solution":
            _run(replacements.get(cell.grade_id, cell.source), namespace)
        elif cell.role == "given":
            _run(cell.source, namespace)
        else:
            visible = _run(HIDDEN.sub("", cell.source), namespace)
            full = _run(cell.source, namespace)
            verdicts.append({"test": cell.grade_id, "visible": visible, "full": full})
        plt.close("all")
    return verdicts


@lru_cache(maxsize=None)
def _simulate(unit: str, frozen: tuple) -> tuple:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the notebook, send the verdicts, leave without cleanup
        os.close(read)
        try:
            payload = json.dumps(_simulate_here(unit, dict(frozen)))
        except BaseException:  # noqa: BLE001
            payload = json.dumps({"crash": traceback.format_exc()})
        with os.fdopen(write, "w") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        data = json.loads(pipe.read() or '{"crash": "the simulated notebook killed its process"}')
    os.waitpid(pid, 0)
    if isinstance(data, dict):
        raise RuntimeError(f"simulating {unit} crashed:\n{data['crash']}")
    return tuple(Verdict(**v) for v in data)


def simulate(unit: str, replacements: dict[str, str] | None = None) -> dict[str, Verdict]:
    """Run ``unit`` with the given solution cells replaced; return each test's verdict by grade_id."""
    frozen = tuple(sorted((replacements or {}).items()))
    return {v.test: v for v in _simulate(unit, frozen)}


@dataclass
class Judgement:
    """Why a case is judged wrongly, as sentences; empty when the tests judge it right."""

    problems: list = field(default_factory=list)


def judge(unit: str, case: Case) -> list[str]:
    """What is wrong with how the unit's tests treat ``case`` (empty when they treat it right)."""
    reference = solutions(unit)
    if case.exercise not in reference:
        return [f"{unit} has no solution cell {case.exercise!r}"]
    verdicts = simulate(unit, {case.exercise: case.source(reference[case.exercise])})
    problems = []
    if case.fails is None:
        for v in verdicts.values():
            if not v.passed:
                problems.append(f"correct variant fails {v.test}: {v.visible or v.full}")
        return problems
    target = verdicts.get(case.fails)
    if target is None:
        return [f"{unit} has no test {case.fails!r}"]
    if target.visible is None:
        hidden = f" (only the hidden part catches it: {target.full})" if target.full else " (nor do the hidden tests)"
        problems.append(f"mistake passes the visible part of {case.fails}{hidden}")
    elif case.says and not re.search(case.says, target.visible, re.I | re.S):
        problems.append(f"{case.fails} fails, but its message does not match {case.says!r}: {target.visible}")
    for v in verdicts.values():
        if v.test == case.fails or v.passed:
            continue
        message = v.visible or v.full
        if v.test in case.also_fails and re.search(r"fix .* first", message, re.I):
            continue
        problems.append(f"mistake in {case.exercise} is blamed on {v.test}: {message}")
    return problems
