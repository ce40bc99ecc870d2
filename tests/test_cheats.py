"""Can a notebook forge its grade? Each known cheat, on untouched stubs, must score exactly 0.

Tests run in a trusted interpreter and the learner's code in its own kernel (gradelib.bridge),
so nothing a notebook does in its own process reaches a test. Each cheat below is one that
gave full marks while tests and learner code shared a process (issue 14), plus an object
(not a number) that says it equals, and is within any tolerance of, anything. "partial" students
solved two exercises honestly and cheat on the rest: they keep exactly those points. No
hidden test's text may appear in anything a student sees.
"""
from __future__ import annotations

import html
import re

import nbformat
import pytest

from gradelib.course import REPO_ROOT
from gradelib.grading import grade
from tests.test_grading import UNIT, insert_after, learner

pytestmark = pytest.mark.slow

PATCH_FROM_INSIDE = """\
import numpy, gradelib
numpy.allclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
gradelib.check_gradient = lambda *a, **k: None
return numpy.zeros(len(x))"""

DISPLAYHOOK = """\
import sys
sys.displayhook(6)
raise ValueError("no")"""

LIAR_FLOAT = """\
class Liar(float):
    def __eq__(self, other): return True
    def __lt__(self, other): return True
    def __gt__(self, other): return True
    def __sub__(self, other): return Liar(0.0)
    def __abs__(self): return Liar(0.0)
    __hash__ = float.__hash__
return Liar(0.0)"""

LIAR_ARRAY = """\
class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(self.shape, bool)
    def __array_finalize__(self, obj): pass
return np.zeros(np.shape(x)).view(Liar)"""

AGREEABLE = """\
class Agreeable:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    def __sub__(self, other): return self
    def __rsub__(self, other): return self
    def __abs__(self): return self
    def __bool__(self): return True
    def __array__(self, *args, **kwargs): raise TypeError("no")
    __hash__ = object.__hash__
return Agreeable()"""

FRAME_GLOBALS = """\
import sys
frame = sys._getframe(1)
while frame is not None:
    frame.f_globals["np"] = type("FakeNumpy", (), {"allclose": staticmethod(lambda *a, **k: True)})
    frame.f_globals["abs"] = lambda v: 0
    frame = frame.f_back
return 0.0"""

OWN_CELLS = {
    "input_transformer": "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])",
    "ast_transformer": """
        import ast
        class Gut(ast.NodeTransformer):
            def visit_Module(self, node):
                return ast.Module(body=[ast.Pass()], type_ignores=[])
        get_ipython().ast_transformers.append(Gut())
    """,
    "custom_exc": "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
    "showtraceback": "get_ipython()._showtraceback = lambda *a, **k: None\nget_ipython().showtraceback = lambda *a, **k: None",
    "session_send": """
        kernel = get_ipython().kernel
        original = kernel.session.send
        def send(stream, msg_or_type, content=None, *args, **kwargs):
            if isinstance(msg_or_type, dict):
                msg_or_type.get("content", {}).update(status="ok")
            elif isinstance(content, dict) and content.get("status") == "error":
                content = dict(content, status="ok")
            if msg_or_type == "error":
                return None
            return original(stream, msg_or_type, content, *args, **kwargs)
        kernel.session.send = send
    """,
    "rebind_globals": "import numpy\nnp = type('Fake', (), {'allclose': staticmethod(lambda *a, **k: True)})\nabs = lambda v: 0",
    "swap_code": """
        import numpy, gradelib
        numpy.allclose.__code__ = (lambda a, b, rtol=1e-05, atol=1e-08, equal_nan=False: True).__code__
        numpy._core.numeric.isclose.__code__ = (lambda *a, **k: True).__code__
    """,
    "thread": """
        import threading, time, numpy
        source = "import numpy, time\\nwhile True:\\n    numpy.allclose = lambda *a, **k: True\\n    time.sleep(0.001)\\n"
        code = compile(source, threading.__file__, "exec")
        threading.Thread(target=lambda: exec(code, {}), daemon=True).start()
    """,
    "print_in": "print(In)\nprint(globals().keys())",
}
BODIES = {
    "patch_from_inside": {"gradient": PATCH_FROM_INSIDE, "gradient_descent": PATCH_FROM_INSIDE},
    "displayhook": {name: DISPLAYHOOK for name in ("forward_difference", "central_difference", "gradient",
                                                    "gradient_descent")},
    "liar_float": {"forward_difference": LIAR_FLOAT, "central_difference": LIAR_FLOAT},
    "liar_array": {"gradient": LIAR_ARRAY, "gradient_descent": LIAR_ARRAY},
    "frame_globals": {"forward_difference": FRAME_GLOBALS, "central_difference": FRAME_GLOBALS},
    "agreeable": {name: AGREEABLE for name in ("forward_difference", "central_difference", "gradient",
                                                "gradient_descent")},
}
HONEST = {"forward_difference", "central_difference"}


def build(subs):
    def put(student, nb):
        path = subs / student / UNIT / f"{UNIT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)

    expected = {}
    for name, source in OWN_CELLS.items():
        nb = learner(UNIT)
        insert_after(nb, "imports", source)
        put(name, nb)
        expected[name] = 0
        nb = learner(UNIT, solved=HONEST)
        insert_after(nb, "test_central_difference", source)  # after the honest work, which it must not undo
        if name == "print_in":  # after every test: whatever the kernel holds then
            nb.cells.append(nbformat.v4.new_code_cell(source))
        put(f"partial_{name}", nb)
        expected[f"partial_{name}"] = 2
    for name, bodies in BODIES.items():
        put(name, learner(UNIT, bodies=bodies))
        expected[name] = 0
    put("ref", learner(UNIT, solved="all"))
    expected["ref"] = 6
    return expected


def hidden_lines() -> list[str]:
    nb = nbformat.read(REPO_ROOT / "solutions" / UNIT / f"{UNIT}.ipynb", as_version=4)
    lines = []
    for cell in nb.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
            lines += [line.strip() for line in block.splitlines() if len(line.strip()) > 25]
    assert lines
    return lines


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("cheats")
    expected = build(root / "submissions")
    run = grade(submissions=root / "submissions", out=root / "out", workers=2, timeout=30, progress=False)
    return run, expected, root / "out"


def test_every_cheat_scores_exactly_what_was_earned(graded):
    run, expected, _ = graded
    got = {r.student: r.score for r in run.results}
    wrong = {student: (got.get(student), points) for student, points in expected.items() if got.get(student) != points}
    assert not wrong, f"student: (scored, earned) {wrong}"


def test_no_hidden_test_text_reaches_a_student(graded):
    """Feedback pages and the learner's own cells' outputs hold no line of a hidden test."""
    run, expected, out = graded
    secrets = hidden_lines()
    for student in expected:
        page = (out / "feedback" / student / UNIT / f"{UNIT}.html").read_text()
        nb = nbformat.read(out / "autograded" / student / UNIT / f"{UNIT}.ipynb", as_version=4)
        printed = "\n".join(str(o) for c in nb.cells if c.cell_type == "code"
                            and not c.metadata.get("nbgrader", {}).get("grade") for o in c.get("outputs", []))
        for line in secrets:
            assert line not in page and html.escape(line) not in page, f"{student}'s feedback shows: {line}"
            assert line not in printed, f"{student}'s own cells printed: {line}"
