"""Benchmark 7: the cost of one bridge call, and unit 02's deep chains through the bridge.

A learner process serves ``gradelib.bridge.agent`` on a Unix socket, as the learner's kernel
does while a test cell runs; this process is the trusted side. Timed, interleaved, medians
over repeats:

* one call of a learner function with no arguments (``f()``), and one operator on a learner
  object (``v * 1.0001``, which makes a new learner object and returns its handle), and one
  call with a 1,000-element float array argument and result;
* the same operator in one process (a plain Python call), for scale;
* beside each median wall time, the CPU time both processes spent per call: on a shared,
  loaded machine the wall time is mostly waiting for a core, the CPU time is the bridge's own;
* a 5,000-node ``Value`` chain built through the bridge, one operator call per node: its
  seconds against the 30 s per-cell timeout;
* (full run only) unit 02's solution notebook graded as the grader runs it (test cells in the
  trusted interpreter): each test cell's seconds against the same timeout, and its round trips;
* (full run only) the bridge's cost per notebook: unit 01's solution executed by nbgrader's
  ``Execute`` with and without ``TrustedTestsMixin`` (same unsandboxed kernels otherwise),
  interleaved, the median over 5 repeats, wall and CPU (this process and its children).
"""
from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from .report import pyplot, save_figure

__all__ = ["plot", "run"]

TIMEOUT = 30.0  # seconds per cell, the grader's default

LEARNER = textwrap.dedent('''
    import numpy as np

    def nothing():
        return None

    def scale(x):
        return 2.0 * x

    class Value:
        def __init__(self, data, children=()):
            self.data, self.grad, self._children = float(data), 0.0, tuple(children)

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            return Value(self.data * other.data, (self, other))
''')
SERVER = textwrap.dedent('''
    import sys
    from gradelib.bridge.agent import serve
    namespace = {}
    exec(sys.stdin.read(), namespace)
    serve(sys.argv[1], sys.argv[2], namespace)
''')


class _Learner:
    def __init__(self, folder: Path):
        from gradelib.bridge.trusted import Session

        token = secrets.token_hex(8)
        self.session = Session(str(folder / "bench.sock"), token)
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, self.session.path, token],
                                     stdin=subprocess.PIPE, text=True)
        self.proc.stdin.write(LEARNER)
        self.proc.stdin.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.session.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU time of process ``pid`` so far, or of its reaped children (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    at = 13 if children else 11
    return (int(fields[at]) + int(fields[at + 1])) / os.sysconf("SC_CLK_TCK")


def _per_call(fn, calls: int, pid: int | None = None) -> tuple[float, float]:
    """Wall seconds per call, and CPU seconds per call of this process plus process ``pid``."""
    cpu, other, start = time.process_time(), _cpu_seconds(pid) if pid else 0.0, time.perf_counter()
    for _ in range(calls):
        fn()
    wall = (time.perf_counter() - start) / calls
    spent = time.process_time() - cpu + ((_cpu_seconds(pid) - other) if pid else 0.0)
    return wall, spent / calls


def run(*, quick: bool = False) -> list[dict]:
    calls, repeats, depth = (50, 3, 200) if quick else (2000, 7, 5000)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gradelib-bench-") as folder, _Learner(Path(folder)) as learner:
        lookup = learner.session.lookup
        nothing, scale, Value = lookup("nothing"), lookup("scale"), lookup("Value")
        v = Value(1.0)
        x = np.linspace(0, 1, 1000)
        local = {}
        exec(LEARNER, local)
        local_v = local["Value"](1.0)
        contenders = {
            "bridge: f()": lambda: nothing(),
            "bridge: v * 1.0001 (new learner object)": lambda: v * 1.0001,
            "bridge: f(x), x and result 1,000 floats": lambda: scale(x),
            "one process: v * 1.0001": lambda: local_v * 1.0001,
        }
        times = {name: [] for name in contenders}
        for r in range(repeats):
            names = list(contenders)
            for name in names[r % len(names):] + names[: r % len(names)]:
                times[name].append(_per_call(contenders[name], calls, learner.proc.pid))
        for name, values in times.items():
            rows.append({"measure": name, "median µs per call": round(statistics.median(w for w, _ in values) * 1e6, 1),
                         "CPU µs per call, both processes": round(statistics.median(c for _, c in values) * 1e6, 1),
                         "calls x repeats": f"{calls} x {repeats}"})
        chains = []
        for _ in range(3):
            start = time.perf_counter()
            z = Value(1.0)
            for _ in range(depth):
                z = z * 1.0001
            chains.append(time.perf_counter() - start)
        chain = statistics.median(chains)
        rows.append({"measure": f"bridge: a {depth:,}-node Value chain (one call per node)",
                     "median µs per call": round(chain / depth * 1e6, 1),
                     "calls x repeats": f"{depth} x 3", "seconds": round(chain, 3),
                     "share of the 30 s timeout": f"{chain / TIMEOUT:.1%}"})
    if not quick:
        rows += _unit02_test_cells()
        rows += _per_notebook()
    return rows


COUNTING = """\
import gradelib.bridge.peer as _peer
_count = [0]
if not hasattr(_peer.Peer, "_uncounted"):
    _peer.Peer._uncounted = _peer.Peer.request
def _counted(self, *args, **kwargs):
    _count[0] += 1
    return _peer.Peer._uncounted(self, *args, **kwargs)
_peer.Peer.request = _counted
"""


def _unit02_test_cells() -> list[dict]:
    """Each test cell of unit 02's solutions through the bridge: seconds (nbclient's timing) and round trips."""
    from datetime import datetime

    import nbformat
    from nbgrader.preprocessors import Execute

    from gradelib.bridge.execute import TrustedTestsMixin, cell_role
    from gradelib.course import REPO_ROOT

    class BridgedExecute(TrustedTestsMixin, Execute):
        pass

    unit = "02_chain_rule"
    nb = nbformat.read(REPO_ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    for cell in nb.cells:  # count the trusted side's requests in each test cell
        if cell_role(cell) == "test":
            cell.source = COUNTING + cell.source + "\nprint('round trips:', _count[0])"
    with tempfile.TemporaryDirectory(prefix="gradelib-bench-") as folder:
        nb, _ = BridgedExecute(timeout=600, record_timing=True).preprocess(nb, {"metadata": {"path": folder}})
    rows = []
    for cell in nb.cells:
        if cell_role(cell) != "test":
            continue
        stamps = cell.metadata.get("execution", {})
        start, end = (datetime.fromisoformat(stamps[k].replace("Z", "+00:00"))
                      for k in ("iopub.execute_input", "shell.execute_reply"))
        seconds = (end - start).total_seconds()
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        trips = int(printed.rsplit("round trips:", 1)[1].split()[0]) if "round trips:" in printed else None
        failed = [o.ename for o in cell.outputs if o.output_type == "error"]
        rows.append({"measure": f"unit 02 {cell.metadata['nbgrader']['grade_id']} ({'failed: ' + failed[0] if failed else 'passed'})",
                     "median µs per call": round(seconds / trips * 1e6, 1) if trips else None,
                     "calls x repeats": f"{trips} x 1", "seconds": round(seconds, 2),
                     "share of the 30 s timeout": f"{seconds / TIMEOUT:.1%}"})
    return rows


def _per_notebook(repeats: int = 5) -> list[dict]:
    """Unit 01's solution through Execute, with and without the bridge: seconds and CPU per notebook."""
    import resource

    import nbformat
    from nbgrader.preprocessors import Execute

    from gradelib.bridge.execute import TrustedTestsMixin, shared_zygote
    from gradelib.course import REPO_ROOT

    class BridgedExecute(TrustedTestsMixin, Execute):
        pass

    unit = "01_calculus_recap"
    source = nbformat.read(REPO_ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    zygote = shared_zygote()  # started once per grading worker: not a per-notebook cost

    def cpu() -> float:
        """CPU of this process, its finished children, and the trusted kernels the zygote forked and reaped."""
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime + _cpu_seconds(zygote.proc.pid, children=True)

    def once(kind):
        nb = nbformat.from_dict(json.loads(json.dumps(source)))
        with tempfile.TemporaryDirectory(prefix="gradelib-bench-") as folder:
            start, spent = time.perf_counter(), cpu()
            kind(timeout=120).preprocess(nb, {"metadata": {"path": folder}})
            wall = time.perf_counter() - start
            time.sleep(1.0)  # the zygote reaps the trusted kernel within a few tenths of a second
            return wall, cpu() - spent

    kinds = {"Execute": Execute, "Execute + bridge": BridgedExecute}
    times = {name: [] for name in kinds}
    for r in range(repeats):
        order = list(kinds) if r % 2 == 0 else list(kinds)[::-1]
        for name in order:
            times[name].append(once(kinds[name]))
    plain = statistics.median(w for w, _ in times["Execute"])
    rows = []
    for name, values in times.items():
        wall = statistics.median(w for w, _ in values)
        rows.append({"measure": f"unit 01 notebook, {name}", "seconds": round(wall, 2),
                     "CPU seconds (notebook's processes)": round(statistics.median(c for _, c in values), 2),
                     "calls x repeats": f"1 x {repeats}", "× Execute": round(wall / plain, 2)})
    return rows


def plot(rows: list[dict], out: Path) -> list[Path]:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3))
    rows = [r for r in rows if r.get("median µs per call")]
    names = [r["measure"] for r in rows]
    ax.barh(names, [r["median µs per call"] for r in rows], color="tab:blue")
    ax.set(xlabel="median µs per call", title="Cost of one bridge call (trusted side -> learner process)")
    ax.invert_yaxis()
    fig.tight_layout()
    return [save_figure(fig, out / "bridge_call_cost.png")]
