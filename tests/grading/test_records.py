"""Do the records that cross process boundaries survive JSON both ways, and refuse what they are not?"""
from __future__ import annotations

import pytest

from gradelib.grading.records import JobResult, JobSpec, KernelRequest, Limits, WorkerConfig

RECORDS = [
    Limits(memory_mb=512, uid=123456),
    KernelRequest(argv=["-f", "k.json"], cwd="/tmp/x", limits=Limits(cpu_seconds=5), isolated=False),
    WorkerConfig(index=1, folder="/tmp/w1", limits=Limits(disk_mb=9)),
    JobSpec("ann", "01_x", "/n.ipynb", "/c", "/t.db", "/root", "/out", 30),
    JobResult("ann", "01_x", "graded", scores={"t1": [1.0, 2.0]}, messages={"t1": "passed"}, seconds=1.5),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_round_trip(record):
    """Is every record rebuilt equal to itself, nested limits included?"""
    again = type(record).from_json(record.to_json())
    assert again == record
    if hasattr(record, "limits"):
        assert isinstance(again.limits, Limits)


@pytest.mark.parametrize("text, words", [("[1, 2]", "JSON object"), ('{"student": "a", "evil": 1}', "unknown")])
def test_malformed_records_are_refused(text, words):
    """Does a line that is not a JobResult raise ValueError instead of building something else?"""
    with pytest.raises(ValueError, match=words):
        JobResult.from_json(text)


def test_result_totals():
    """Are score and max_score the sums over the test cells?"""
    result = JobResult("a", "u", "graded", scores={"x": [1.0, 2.0], "y": [0.5, 3.0]})
    assert (result.score, result.max_score) == (1.5, 5.0)
