"""`python -m benchmarks --quick`: a smoke run that says so and never overwrites the full results."""
from __future__ import annotations

import os
import subprocess
import sys

from gradelib.course import REPO_ROOT


def test_quick_run_writes_elsewhere_and_says_it_is_a_smoke_run(tmp_path):
    """Does --quick write bench-results-quick/ (not bench-results/) and label its output a smoke run?"""
    full = tmp_path / "bench-results"
    full.mkdir()
    (full / "results.md").write_text("the full run's figures\n")
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", "bench_gradcheck"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 0, result.stderr
    assert (full / "results.md").read_text() == "the full run's figures\n"
    quick = (tmp_path / "bench-results-quick" / "results.md").read_text()
    assert quick.startswith("Smoke run (--quick)") and result.stdout.startswith("Smoke run (--quick)")
    assert "Smoke run" in result.stderr.splitlines()[0]
