"""Does a run end cleanly however it ends: refused at the start, or interrupted with Ctrl-C half-way?"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from gradelib.course import REPO_ROOT
from gradelib.grading import GradingError, grade

UNIT = "01_calculus_recap"


def test_formula_like_student_ids_are_refused_before_anything_runs(tmp_path):
    """A folder named like a spreadsheet formula: one sentence, nothing written to --out?"""
    path = tmp_path / "subs" / '=HYPERLINK("http://evil","x")' / UNIT / f"{UNIT}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    with pytest.raises(GradingError, match="student ids must be"):
        grade(submissions=tmp_path / "subs", out=tmp_path / "out", isolation=False)
    assert not (tmp_path / "out").exists()


def test_unknown_units_are_named(tmp_path):
    """Asked for a unit the course does not have: is it named, with the course's units?"""
    (tmp_path / "subs").mkdir()
    with pytest.raises(GradingError, match="unknown units: 99_nope; the course's units are 01_calculus_recap"):
        grade(submissions=tmp_path / "subs", out=tmp_path / "out", units=["99_nope"], isolation=False)


def _ours(marker: str) -> list[str]:
    hits = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
                environ = Path(f"/proc/{entry}/environ").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline or marker in environ:
                hits.append(f"{entry} {cmdline[:120]}")
    return hits


@pytest.mark.slow
def test_ctrl_c_stops_the_run_in_one_line_and_leaves_nothing(tmp_path):
    """SIGINT half-way through a class: exit 130, one line, no process and no temporary folder left?"""
    notebook = nbformat.read(REPO_ROOT / "course" / UNIT / f"{UNIT}.ipynb", as_version=4)
    for i in range(6):
        path = tmp_path / "subs" / f"s{i}" / UNIT / f"{UNIT}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    private = Path(tempfile.mkdtemp(prefix="glc-", dir="/tmp"))  # short: the run's socket folders go here too
    marker = f"gradelib-ctrl-c-{os.getpid()}"
    env = dict(os.environ, TMPDIR=str(private), GRADELIB_TEST_MARKER=marker)
    proc = subprocess.Popen([sys.executable, "-m", "gradelib", "grade", "--submissions", str(tmp_path / "subs"),
                             "--out", str(tmp_path / "out"), "--workers", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((tmp_path / "out").glob("feedback/*/*/*.html")):
        time.sleep(0.2)  # until the first notebook is graded and others are running
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err[-2000:])
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err[-2000:]
    time.sleep(1)
    assert _ours(marker) == [] and _ours(str(private)) == []
    assert list(private.iterdir()) == []
    private.rmdir()
