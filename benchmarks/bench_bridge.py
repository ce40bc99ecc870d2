"""Benchmark 7: the cost of one bridge call, and unit 02's deep chains through the bridge.

A learner process serves ``gradelib.bridge.agent`` on a Unix socket, as the learner's kernel
does while a test cell runs; this process is the trusted side. Timed, interleaved, medians
over repeats:

* one call of a learner function with no arguments (``f()``), and one operator on a learner
  object (``v * 1.0001``, which makes a new learner object and returns its handle), and one
  call with a 1,000-element float array argument and result;
* the same operator in one process (a plain Python call), for scale;
* a 5,000-node ``Value`` chain built through the bridge (unit 02's visible deep-chain test):
  its seconds against the 30 s per-cell timeout.
"""
from __future__ import annotations

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


def _per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


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
                times[name].append(_per_call(contenders[name], calls))
        for name, values in times.items():
            rows.append({"measure": name, "median µs per call": round(statistics.median(values) * 1e6, 1),
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
    return rows


def plot(rows: list[dict], out: Path) -> list[Path]:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3))
    names = [r["measure"] for r in rows]
    ax.barh(names, [r["median µs per call"] for r in rows], color="tab:blue")
    ax.set(xlabel="median µs per call", title="Cost of one bridge call (trusted side -> learner process)")
    ax.invert_yaxis()
    fig.tight_layout()
    return [save_figure(fig, out / "bridge_call_cost.png")]
