"""Benchmark 5: what CI pays for nbval, i.e. re-running every solution notebook and comparing outputs.

Times ``python -m pytest solutions/`` (pytest's addopts add ``--nbval`` and the sanitizer) in
a subprocess, against the target of 2 minutes on 2 cores; per unit from pytest's JUnit XML.
The median of two runs, or one run when the first takes over ``SECOND_RUN_BELOW`` seconds.
The quick mode only checks that the command is wired: it collects one notebook's cells.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from gradelib.course import REPO_ROOT, units

from . import BenchmarkSkipped
from .report import pyplot, save_figure
from .timing import stopwatch

__all__ = ["plot", "run"]

TARGET_SECONDS = 120.0
SECOND_RUN_BELOW = 60.0


def _pytest(args: list[str], junit: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    command = [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider"]
    if junit:
        command.append(f"--junitxml={junit}")
    # The notebooks' kernels must get matplotlib's usual inline backend: a forced one changes outputs.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    return stopwatch(lambda: subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=env))


def _per_unit(junit: Path) -> dict[str, dict]:
    """Seconds, cells and failures per unit, from pytest's JUnit XML."""
    found: dict[str, dict] = defaultdict(lambda: {"seconds": 0.0, "cells": 0, "failed": 0})
    for case in ET.parse(junit).iter("testcase"):
        where = case.get("file") or case.get("classname", "")
        unit = next((u for u in units() if u in where), where)
        found[unit]["seconds"] += float(case.get("time", 0))
        found[unit]["cells"] += 1
        found[unit]["failed"] += any(child.tag in ("failure", "error") for child in case)
    return dict(found)


def run(*, quick: bool = False) -> list[dict]:
    """A row per unit and a total row: seconds, and the total as a fraction of the target."""
    names = units()
    if not names:
        raise BenchmarkSkipped("no solution notebooks under solutions/")
    if quick:
        seconds, done = _pytest(["--collect-only", f"solutions/{names[0]}"])
        if done.returncode != 0:
            raise RuntimeError(f"pytest could not collect solutions/{names[0]}:\n{done.stdout[-2000:]}")
        return [{"notebooks": f"collect {names[0]} (wiring only)", "seconds": seconds,
                 "× 2-minute target": seconds / TARGET_SECONDS, "passed": True}]
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-ci-") as tmp:
        while len(runs) < 2:
            junit = Path(tmp) / f"run{len(runs)}.xml"
            seconds, done = _pytest(["solutions/"], junit)
            runs.append((seconds, done, _per_unit(junit) if junit.exists() else {}))
            if seconds > SECOND_RUN_BELOW:
                break
    total = statistics.median(s for s, _, _ in runs)
    last_units = runs[-1][2]
    rows = [{"notebooks": unit, "seconds": info["seconds"], "× 2-minute target": info["seconds"] / TARGET_SECONDS,
             "passed": info["failed"] == 0, "_cells": info["cells"]} for unit, info in sorted(last_units.items())]
    rows.append({"notebooks": f"all {len(names)} (pytest solutions/, {os.cpu_count()} cores)", "seconds": total,
                 "× 2-minute target": total / TARGET_SECONDS, "passed": all(d.returncode == 0 for _, d, _ in runs),
                 "_runs": [s for s, _, _ in runs], "_summary": runs[-1][1].stdout.strip().splitlines()[-1:]})
    return rows


def plot(rows: list[dict], out_dir: Path) -> list[Path]:
    plt = pyplot()

    per_unit = [r for r in rows if not r["notebooks"].startswith(("all ", "collect "))]
    if not per_unit:
        return []
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = [r["notebooks"] for r in per_unit]
    ax.barh(names, [r["seconds"] for r in per_unit], color=["C0" if r["passed"] else "C3" for r in per_unit])
    total = next(r["seconds"] for r in rows if r["notebooks"].startswith("all "))
    ax.set(xlabel="seconds (pytest's time for the notebook's cells)",
           title=f"nbval over the solution notebooks: {total:.0f} s in all (target {TARGET_SECONDS:.0f} s)")
    ax.invert_yaxis()
    return [save_figure(fig, out_dir / "ci.png")]
