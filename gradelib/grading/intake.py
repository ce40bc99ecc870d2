"""Submissions in, jobs out: the layout checked, each notebook read once, safely, into the run.

Layout: ``<submissions>/<student_id>/<unit>/<unit>.ipynb``. What cannot be graded at all is
refused with one sentence (``GradingError``): no such folder, an empty one, files where
student folders belong, student ids that are not plain names, unit folders the course does
not have. What one student got wrong costs that student's notebook only (a ``JobResult``
with the reason): a symbolic link or other non-regular file, a notebook over the size or
cell-count limit, one that is empty or not a notebook, or none at all.

Each accepted notebook is read without following links (``O_NOFOLLOW``) and copied into the
run's private folder, so nothing a kernel does later changes what was graded.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .records import GradingError, JobResult

__all__ = ["MAX_CELLS", "MAX_NOTEBOOK_BYTES", "STUDENT_ID", "Accepted", "intake"]

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")  # starts with a letter or digit: never a formula
MAX_NOTEBOOK_BYTES = 20_000_000
MAX_CELLS = 2_000
LAYOUT = "<student_id>/<unit>/<unit>.ipynb"


@dataclass(frozen=True)
class Accepted:
    student: str
    unit: str
    notebook: Path  # the run's private copy


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _check_layout(submissions: Path, known: list[str]) -> list[Path]:
    if not submissions.is_dir():
        raise GradingError(f"no submissions folder at {submissions}")
    entries = _visible(submissions)
    if not entries:
        raise GradingError(f"the submissions folder {submissions} is empty: expected {LAYOUT}")
    files = [p.name for p in entries if not p.is_dir() or p.is_symlink() and not p.is_dir()]
    if files:
        raise GradingError(f"wrong layout in {submissions}: {', '.join(files[:3])} where student folders belong; "
                           f"expected {LAYOUT}")
    bad = [p.name for p in entries if not STUDENT_ID.fullmatch(p.name)]
    if bad:
        raise GradingError(f"student ids must be letters, digits and _ . @ - (starting with a letter or digit); "
                           f"not: {', '.join(repr(b[:40]) for b in bad[:5])}")
    unknown, loose = [], []
    for student in entries:
        if student.is_symlink():
            continue  # refused per notebook, with the reason
        for child in _visible(student):
            if child.is_dir() and not child.is_symlink() and child.name not in known:
                unknown.append(f"{student.name}/{child.name}")
            elif not child.is_dir():
                loose.append(f"{student.name}/{child.name}")
    if unknown:
        raise GradingError(f"unknown unit folders: {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}; "
                           f"the course's units are {', '.join(known)}")
    if loose:
        raise GradingError(f"wrong layout: {', '.join(loose[:3])} should be in a unit folder; expected {LAYOUT}")
    return entries


def _read(path: Path) -> bytes | str:
    """The notebook's bytes, or why it is refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        return "the notebook is a symbolic link: submit the file itself" if error.errno == 40 else f"unreadable ({error.strerror})"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "the notebook is not a regular file"
        if info.st_size > MAX_NOTEBOOK_BYTES:
            return f"the notebook is {info.st_size / 1e6:.0f} MB, over the limit of {MAX_NOTEBOOK_BYTES / 1e6:.0f} MB"
        data = fh.read(MAX_NOTEBOOK_BYTES + 1)
    return data if len(data) <= MAX_NOTEBOOK_BYTES else f"the notebook is over {MAX_NOTEBOOK_BYTES / 1e6:.0f} MB"


def _validate(data: bytes) -> tuple[str, str] | None:
    """(status, reason) for a notebook that cannot be graded, else None."""
    import nbformat

    if not data.strip():
        return "unreadable", "the notebook file is empty"
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as error:  # noqa: BLE001 - any parse failure means "not a notebook"
        return "unreadable", f"the file is not a valid notebook ({type(error).__name__}: {str(error)[:200]})"
    if len(nb.get("cells", [])) > MAX_CELLS:
        return "refused", f"the notebook has {len(nb.cells):,} cells, over the limit of {MAX_CELLS:,}"
    return None


def intake(submissions: Path, known: list[str], selected: list[str], private: Path) -> tuple[list[Accepted], list[JobResult]]:
    """Check the layout, then read each student's notebook of each selected unit (see the module doc)."""
    accepted, refused = [], []
    for student_dir in _check_layout(submissions, known):
        student = student_dir.name
        for unit in selected:
            unit_dir = student_dir / unit
            if student_dir.is_symlink() or unit_dir.is_symlink():
                refused.append(JobResult(student, unit, "refused", "the submission folder is a symbolic link"))
                continue
            if not unit_dir.is_dir():
                continue
            path = unit_dir / f"{unit}.ipynb"
            if not os.path.lexists(path):
                refused.append(JobResult(student, unit, "missing", f"no {unit}.ipynb in the submission"))
                continue
            data = _read(path)
            problem = ("refused", data) if isinstance(data, str) else _validate(data)
            if problem:
                refused.append(JobResult(student, unit, *problem))
                continue
            copy = private / student / f"{unit}.ipynb"
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(data)
            accepted.append(Accepted(student, unit, copy))
    if not accepted and not refused:
        raise GradingError(f"no submissions of {', '.join(selected)} in {submissions}: expected {LAYOUT}")
    return accepted, refused
