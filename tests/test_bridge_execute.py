"""Does TrustedTestsMixin run test cells in the trusted kernel and everything else in the learner's?

A small notebook runs through nbgrader's plain ``Execute`` with the mixin (no sandbox): the
mixin's routing, outputs, timeouts, a dying learner kernel and its clean-up, on their own.
"""
from __future__ import annotations

import os
import time

import nbformat
import pytest
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import Execute

from gradelib.bridge.execute import TrustedTestsMixin, cell_role, definitions_only

pytestmark = pytest.mark.slow


class BridgedExecute(TrustedTestsMixin, Execute):
    pass


def cell(source, role, name):
    meta = {"given": {"locked": True, "grade": False, "solution": False},
            "solution": {"locked": False, "grade": False, "solution": True},
            "test": {"locked": True, "grade": True, "solution": False, "points": 1},
            "own": None}[role]
    made = new_code_cell(source)
    if meta is not None:
        made.metadata["nbgrader"] = dict(meta, grade_id=name)
    return made


def run(cells, tmp_path, timeout=20):
    tmp_path.mkdir(parents=True, exist_ok=True)
    nb = new_notebook(cells=cells)
    nb, _ = BridgedExecute(timeout=timeout).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    return {c.metadata.get("nbgrader", {}).get("grade_id", f"own{i}"): c for i, c in enumerate(nb.cells)}


def text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def errors(cell):
    return [o.ename for o in cell.outputs if o.output_type == "error"]


def children(parent: int) -> dict[int, str]:
    """The child processes of ``parent``: pid -> command line."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read()
            cmdline = open(f"/proc/{pid}/cmdline").read().replace("\0", " ")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found[int(pid)] = cmdline
    return found


@pytest.fixture(autouse=True, scope="module")
def _trusted_zygote_ends_with_the_module():
    """The module's tests share this process's trusted zygote; it must not outlive them."""
    yield
    from gradelib.bridge import execute

    execute.stop_shared_zygote()


def trusted_kernels() -> list:
    """Trusted kernels still running: their clients (our children) and the zygote's forks."""
    from gradelib.bridge import execute

    ours = [cmd for cmd in children(os.getpid()).values() if "_forkclient" in cmd or "bridge.trusted" in cmd]
    zygote = execute._zygote
    return ours + (list(children(zygote.proc.pid)) if zygote is not None and zygote.alive() else [])


def test_cell_roles():
    assert [cell_role(cell("x", r, "n")) for r in ("given", "solution", "test", "own")] == [
        "given", "solution", "test", "other"]


def test_definitions_only_keeps_imports_functions_and_classes():
    code = definitions_only("import math\nx = 1\nprint(x)\ndef f():\n    return x\nclass C:\n    pass\nf()")
    namespace = {}
    exec(code, namespace)
    assert {"math", "f", "C"} <= set(namespace) and "x" not in namespace
    assert definitions_only("def broken(:") == ""
    exec(definitions_only("@undefined_decorator\ndef g():\n    pass\nimport math"), namespace)  # skipped, not fatal


def test_tests_run_in_the_trusted_kernel_with_given_definitions(tmp_path):
    """Learner names resolve through the bridge; given functions are the trusted copy; prints are kept."""
    cells = run([
        cell("import numpy as np\ndef helper(x):\n    return 2 * x\nSHIFT = 5", "given", "given"),
        cell("def f(x):\n    print('learner says hi')\n    return x + SHIFT\ndef helper(x):\n    return 0", "solution", "f"),
        cell("import os\nassert f(1) == 6\nassert helper(3) == 6\nprint('test ok', os.getpid())", "test", "test_f"),
        cell("import os\nprint('learner pid', os.getpid())\nprint(In)", "own", "own"),
    ], tmp_path)
    printed = text(cells["test_f"])
    assert not errors(cells["test_f"]) and "test ok" in printed and "learner says hi" in printed
    test_pid = int(printed.split("test ok ")[1].split()[0])
    own = text(cells["own3"])
    assert int(own.split("learner pid ")[1].split()[0]) != test_pid
    assert "assert f(1) == 6" not in own  # the test never entered the learner's kernel


def test_a_stub_and_a_learner_display_hook_earn_nothing(tmp_path):
    """A stub's NotImplementedError fails the test; the learner's displayhook makes no execute_result."""
    cells = run([
        cell("def g():\n    import sys\n    sys.displayhook(6)\n    raise NotImplementedError()", "solution", "g"),
        cell("g()", "test", "test_g"),
    ], tmp_path)
    assert errors(cells["test_g"]) == ["NotImplementedError"]
    assert not [o for o in cells["test_g"].outputs if o.output_type == "execute_result"]


def test_a_hanging_learner_call_is_the_tests_timeout_and_the_notebook_goes_on(tmp_path):
    cells = run([
        cell("def slow():\n    while True:\n        pass", "solution", "slow"),
        cell("slow()", "test", "test_slow"),
        cell("def quick():\n    return 1", "solution", "quick"),
        cell("assert quick() == 1\nprint('quick ok')", "test", "test_quick"),
    ], tmp_path, timeout=4)
    assert "CellTimeoutError" in errors(cells["test_slow"])
    assert not errors(cells["test_quick"]) and "quick ok" in text(cells["test_quick"])


def test_a_learner_kernel_that_dies_mid_test_stops_the_run_and_leaves_no_process(tmp_path):
    """The run stops; the trusted kernel stays for the process's next notebook, and ends with it."""
    from gradelib.bridge import execute

    cells = [cell("def die():\n    import os\n    os._exit(1)", "solution", "die"), cell("die()", "test", "test_die")]
    with pytest.raises(DeadKernelError):
        run(cells, tmp_path)
    assert len(trusted_kernels()) == 2  # one kernel: its stand-in and the zygote's fork
    execute.stop_shared_zygote()
    for _ in range(50):  # the zygote reaps a kernel within a few tenths of a second of its client
        if not trusted_kernels():
            break
        time.sleep(0.1)
    assert trusted_kernels() == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gradelib-bridge")]


def pid_of(test_cell) -> int:
    return int(text(test_cell).split("trusted pid ")[1].split()[0])


def test_the_next_notebook_gets_the_same_trusted_kernel_as_a_fresh_one(tmp_path):
    """Nothing a notebook's tests left in the kernel reaches the next notebook's tests: not its names, its
    settings, its error, nor its patches to gradelib's and numpy's modules and classes."""
    first = run([
        cell("def f():\n    return 1\nclass OwnError(Exception):\n    pass\ndef g():\n    raise OwnError('mine')", "solution", "f"),
        cell("import os, warnings, numpy as np, matplotlib\n"
             "try:\n    g()\nexcept Exception as error:\n    import gradelib.bridge.peer as peer\n"
             "    assert type(error).__name__ == 'OwnError' and 'OwnError' in peer._error_types\n"
             "leftover = f()\nwarnings.simplefilter('error')\nnp.seterr(all='raise')\nnp.set_printoptions(precision=2)\n"
             "matplotlib.rcParams['lines.linewidth'] = 9\nos.chdir('/')\nnp.random.seed(0)\n"
             "print('draw', np.random.randint(1 << 30))\nprint('trusted pid', os.getpid())\n"
             "import gradelib.bridge.peer as peer, gradelib.testing as testing\n"
             "peer.Peer.request = None\ndel peer.Peer.close\ntesting.assert_close = None\nnp.allclose = None",
             "test", "t"),
        cell("raise ValueError('left behind')", "test", "t_fails"),
    ], tmp_path / "a")
    assert not errors(first["t"]), first["t"].outputs
    assert errors(first["t_fails"]) == ["ValueError"]
    second = run([
        cell("def f():\n    return 2", "solution", "f"),
        cell("import os, warnings, numpy as np, matplotlib\n"
             "assert 'leftover' not in globals() and f() == 2\n"
             "import sys, gradelib.bridge.peer as peer, gradelib.testing as testing\n"
             "assert not peer._error_types and sys.last_value is None\n"
             "assert callable(peer.Peer.request) and callable(peer.Peer.close)\n"
             "assert callable(testing.assert_close) and callable(np.allclose)\n"
             "assert ('error', None, Warning, None, 0) not in warnings.filters\n"
             "assert np.geterr()['divide'] == 'warn' and np.get_printoptions()['precision'] == 8\n"
             "assert matplotlib.rcParams['lines.linewidth'] != 9 and os.getcwd() != '/'\n"
             "assert len(In) == 2, In\n"
             "print('draw', np.random.randint(1 << 30))\nprint('trusted pid', os.getpid())", "test", "t"),
    ], tmp_path / "b")
    assert not errors(second["t"]), second["t"].outputs
    assert pid_of(first["t"]) == pid_of(second["t"])
    assert second["t"].execution_count == first["t"].execution_count  # numbered as in a new kernel
    draws = [text(c["t"]).split("draw ")[1].split()[0] for c in (first, second)]
    assert draws[0] != draws[1]  # seeded afresh, not left at the first notebook's seed


def test_a_trusted_kernel_that_died_is_replaced_for_the_next_notebook(tmp_path):
    import signal

    def notebook():
        return [cell("def f():\n    return 1", "solution", "f"),
                cell("import os\nassert f() == 1\nprint('trusted pid', os.getpid())", "test", "t")]

    first = pid_of(run(notebook(), tmp_path / "a")["t"])
    os.kill(first, signal.SIGKILL)
    second = run(notebook(), tmp_path / "b")["t"]
    assert not errors(second) and pid_of(second) != first


def test_a_zygote_started_early_is_the_one_used_and_lives_on(tmp_path):
    """start_shared_zygote returns at once; shared_zygote waits for that same zygote, which stays alive
    (a zygote dies with the thread that started it: it must be started where it is used)."""
    from gradelib.bridge import execute

    execute.stop_shared_zygote()
    started = time.monotonic()
    execute.start_shared_zygote()
    early = execute._zygote
    assert early is not None and not early.ready and time.monotonic() - started < 0.5
    assert execute.shared_zygote() is early and early.ready
    time.sleep(0.5)
    assert early.alive() and execute.shared_zygote() is early
    cells = run([cell("def f():\n    return 1", "solution", "f"),
                 cell("assert f() == 1\nprint('ok')", "test", "t")], tmp_path)
    assert "ok" in text(cells["t"]) and execute._zygote is early
