"""Typed records that cross process boundaries in a grading run, each with a JSON pair.

The run hands a worker a :class:`JobSpec` and gets a :class:`JobResult` back (one JSON line
each way); a worker starts with a :class:`WorkerConfig`; the zygote is asked for a kernel with
a :class:`KernelRequest` carrying the kernel's :class:`Limits`. Nothing crosses as a loose
dict or an environment variable.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

__all__ = ["DISRUPTIONS", "GradingError", "GradingRun", "JobResult", "JobSpec", "KernelRequest", "Limits", "WorkerConfig"]


# The first error of a test that says the notebook, not the answer, stopped it.
DISRUPTIONS = ("CellTimeoutError", "DeadKernelError", "KernelDied", "GradingError", "TamperingError", "MemoryError",
               "SystemExit")


class GradingError(ValueError):
    """``grade`` cannot start or finish; the message is one sentence for the instructor."""


class _Record:
    """to_json/from_json for a flat dataclass (nested records are rebuilt by ``_nested``)."""

    _nested: dict = {}

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"a {cls.__name__} is a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
        for name, record in cls._nested.items():
            if name in data:
                data[name] = record(**data[name])
        return cls(**data)


@dataclass(frozen=True)
class Limits(_Record):
    """Hard limits of one sandboxed kernel (and the processes it starts)."""

    memory_mb: int = 2048  # address space per process
    cpu_seconds: int = 600  # CPU time per process
    file_mb: int = 64  # largest file a kernel may write
    disk_mb: int = 256  # its writable job folder in all (a tmpfs where the grader may mount one)
    tmp_mb: int = 64  # its private /tmp
    processes: int = 64  # processes and threads of the kernel's user
    open_files: int = 1024
    output_chars: int = 1_000_000  # printed per cell; the rest is cut
    uid: int = 61000  # the unprivileged user the kernel runs as (one per worker)


@dataclass(frozen=True)
class KernelRequest(_Record):
    """What the zygote client asks for: a kernel with these arguments, folder and limits."""

    argv: list
    cwd: str
    limits: Limits
    isolated: bool = True
    _nested = {"limits": Limits}


@dataclass(frozen=True)
class WorkerConfig(_Record):
    """A worker's start-up record: its slot folder, its kernels' limits, isolation on or off."""

    index: int
    folder: str  # the worker's private folder; kernels' job folders live in folder/jobs
    limits: Limits
    isolated: bool = True
    _nested = {"limits": Limits}


@dataclass(frozen=True)
class JobSpec(_Record):
    """One job for a worker: grade ``notebook`` (a private copy) for ``student`` and ``unit``."""

    student: str
    unit: str
    notebook: str  # the run's private copy of the submission
    course: str  # the job's private nbgrader course folder
    template: str  # the verified template gradebook
    root: str  # the course (solutions/, course/)
    out: str
    timeout: int
    isolated: bool = True


@dataclass
class JobResult(_Record):
    """The outcome of grading one student's notebook for one unit."""

    student: str
    unit: str
    status: str  # "graded", "unreadable", "missing", "refused", "failed"
    reason: str = ""
    scores: dict = field(default_factory=dict)  # grade_id -> [score, max_score]
    messages: dict = field(default_factory=dict)  # test grade_id -> "passed" or the error it raised
    seconds: float = 0.0
    retry: bool = False  # the grader itself failed (not the notebook): the run tries once more

    @property
    def score(self) -> float:
        return sum(s for s, _ in self.scores.values())

    @property
    def max_score(self) -> float:
        return sum(m for _, m in self.scores.values())


@dataclass
class GradingRun:
    """What ``grade`` did: one result per student and unit, and where it wrote its files."""

    results: list
    out: Path
    grades_csv: Path
    report_md: Path
    report_png: Path
    seconds: float
    isolated: bool = True
