"""Does the class report come from the run's records, list disrupted notebooks, and stay inert text?"""
from __future__ import annotations

import csv

from gradelib.grading.outputs import Layout
from gradelib.grading.records import JobResult
from gradelib.grading.report import class_report


def results():
    return [
        JobResult("ann", "01_a", "graded", scores={"t1": [1.0, 1.0], "t2": [2.0, 2.0]}, messages={"t1": "passed", "t2": "passed"}),
        JobResult("bob", "01_a", "graded", scores={"t1": [0.0, 1.0], "t2": [0.0, 2.0]},
                  messages={"t1": "DeadKernelError: the kernel died | badly", "t2": "KernelDied: not run"}),
        JobResult("cy", "01_a", "refused", "the notebook is a symbolic link: <b>no</b>"),
    ]


def test_report_tables_and_problems(tmp_path):
    """Per unit, per exercise, and the notebooks that were not run normally, with safe text?"""
    md, png = class_report(results(), Layout(tmp_path), tmp_path, isolated=True)
    text = md.read_text()
    assert "| 01_a | 3 | 1.0 / 3 | 1 | 2 |" in text
    assert "| 01_a | t1 | 1 | 1/3 | 33% |" in text
    assert "| bob | 01_a | disrupted | t1: DeadKernelError: the kernel died / badly |" in text
    assert "| cy | 01_a | refused | the notebook is a symbolic link: &lt;b&gt;no&lt;/b&gt; |" in text
    assert "| ann |" not in text and "WITHOUT isolation" not in text
    assert png.read_bytes()[:4] == b"\x89PNG"
    with open(tmp_path / "report.csv") as fh:
        assert [row["exercise"] for row in csv.DictReader(fh)] == ["t1", "t2"]


def test_report_says_when_the_run_was_not_isolated(tmp_path):
    """Does a --no-isolation run's report say so at the top?"""
    md, _ = class_report(results(), Layout(tmp_path), tmp_path, isolated=False)
    assert "WITHOUT isolation" in md.read_text().split("\n\n")[1]
