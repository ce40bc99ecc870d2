"""The learner's own copy of the course: made from course/ on first use, never overwritten.

course/ is generated (`make release` rewrites it), so a learner who typed there would lose
their work. `make lab` serves ``workspace/`` instead, which `sync` keeps up to date:

- a unit the workspace lacks is copied in whole (first use, or a new unit released);
- a unit whose release has not changed since it was copied is left alone;
- a unit whose release changed is updated in place only while the learner's notebook is
  still the release they were given, cell for cell (outputs and metadata aside): no line of
  theirs exists yet. Otherwise the new release arrives beside their notebook as
  ``<unit>.new-release-<date>.ipynb``, and theirs is untouched.

What was delivered is remembered in ``workspace/.releases/<unit>/`` (a copy of each released
file as given to the learner; JupyterLab hides dot-folders), which is how a learner's edits
are told from a release's.
"""
from __future__ import annotations

import datetime
import filecmp
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["WORKSPACE", "SyncReport", "sync"]

WORKSPACE = "workspace"  # in the course folder, gitignored
DELIVERED = ".releases"  # inside the workspace: the release each unit's files came from


@dataclass
class SyncReport:
    """What one `sync` did, unit by unit."""

    workspace: Path
    added: list[str] = field(default_factory=list)  # units copied in whole
    updated: list[str] = field(default_factory=list)  # files replaced: the learner had not changed them
    beside: list[Path] = field(default_factory=list)  # new releases written next to the learner's files
    unchanged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per change, for the learner."""
        lines = [f"new unit {unit}: {self.workspace / unit}" for unit in self.added]
        lines += [f"updated {path} (you had not changed it)" for path in self.updated]
        lines += [f"a new release of {path.parent.name} is in {path} (your own notebook is untouched)" for path in self.beside]
        return lines


def _cells(path: Path) -> list[tuple[str, str]] | None:
    """A notebook's cells as (type, source) pairs; None when it cannot be read."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"]) for c in cells]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _same_work(learner: Path, delivered: Path) -> bool:
    """Is the learner's file still what they were given (for notebooks: cell for cell)?"""
    if learner.suffix == ".ipynb":
        mine = _cells(learner)
        return mine is not None and mine == _cells(delivered)
    return filecmp.cmp(learner, delivered, shallow=False)


def _beside(learner: Path, released: Path, today: str) -> Path | None:
    """Where a new release of ``learner`` goes; None if an identical copy is already there."""
    stem, suffix = learner.name.split(".", 1)[0], "".join(learner.suffixes) or ""
    for n in range(1, 1000):
        name = f"{stem}.new-release-{today}{'' if n == 1 else f'-{n}'}{suffix}"
        candidate = learner.with_name(name)
        if not candidate.exists():
            return candidate
        if filecmp.cmp(candidate, released, shallow=False):
            return None
    raise RuntimeError(f"too many new releases beside {learner}")


def _files(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*")
                  if p.is_file() and ".ipynb_checkpoints" not in p.parts)


def _sync_unit(release: Path, mine: Path, delivered: Path, report: SyncReport, today: str) -> None:
    changed = False
    for rel in _files(release):
        new, learner, given = release / rel, mine / rel, delivered / rel
        if given.is_file() and filecmp.cmp(new, given, shallow=False):
            continue  # this file's release has not changed since it was delivered
        changed = True
        if not learner.exists() or (given.is_file() and _same_work(learner, given)):
            if learner.exists():
                report.updated.append(learner)
            learner.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(new, learner)
        else:
            target = _beside(learner, new, today)
            if target is not None:
                shutil.copyfile(new, target)
                report.beside.append(target)
        given.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(new, given)
    if not changed:
        report.unchanged.append(release.name)


def sync(*, course: str | os.PathLike, workspace: str | os.PathLike | None = None,
         today: datetime.date | None = None) -> SyncReport:
    """Bring the learner's workspace up to date with ``course``'s release folder (course/).

    ``workspace`` defaults to ``<course>/workspace``. Never deletes or overwrites a file
    the learner changed (see the module docstring); returns what it did.
    """
    course = Path(course).resolve()
    released = course / "course"
    if not released.is_dir():
        raise FileNotFoundError(f"{released} does not exist: run `gradelib release` to generate the learners' notebooks")
    space = Path(workspace).resolve() if workspace else course / WORKSPACE
    report = SyncReport(workspace=space)
    stamp = (today or datetime.date.today()).isoformat()
    for unit in sorted(p for p in released.iterdir() if (p / f"{p.name}.ipynb").is_file()):
        mine, delivered = space / unit.name, space / DELIVERED / unit.name
        if not mine.exists():
            shutil.copytree(unit, mine, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            shutil.rmtree(delivered, ignore_errors=True)
            shutil.copytree(unit, delivered, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            report.added.append(unit.name)
        else:
            _sync_unit(unit, mine, delivered, report, stamp)
    return report
