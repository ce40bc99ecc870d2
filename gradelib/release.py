"""Generate the learners' notebooks (course/) from the instructor's (solutions/) with nbgrader."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .course import REPO_ROOT, nbgrader_config, tools_on_path, units as course_units

__all__ = ["ReleaseError", "release"]


class ReleaseError(RuntimeError):
    """nbgrader could not generate a unit; the message carries its log."""


def release(
    *,
    root: str | os.PathLike = REPO_ROOT,
    units: list[str] | None = None,
    release_dir: str | os.PathLike | None = None,
    db_url: str | None = None,
) -> list[Path]:
    """Run nbgrader's generate_assignment for every unit; return the notebooks written.

    The gradebook nbgrader needs for this is a throwaway one: the grading command keeps
    its own, unless ``db_url`` names one (grading fills its gradebook this way; a shared
    PostgreSQL gradebook is changed by one run at a time, see gradelib.database).
    ``release_dir`` defaults to ``<root>/course``.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    tools_on_path()
    root = Path(root).resolve()
    known = course_units(root)
    names = list(units) if units is not None else known
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ReleaseError(f"no unit {', '.join(map(repr, unknown))} in {root / 'solutions'}; the units are: {', '.join(known)}")
    out = Path(release_dir).resolve() if release_dir else root / "course"
    written = []
    from .database import gradebook_lock, new_gradebooks_in_process

    with tempfile.TemporaryDirectory(prefix="gradelib-release-") as tmp, gradebook_lock(db_url or "sqlite://"), \
            new_gradebooks_in_process():
        config = nbgrader_config(root=root, db_url=db_url or f"sqlite:///{tmp}/gradebook.db", release_directory=str(out))
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        for unit in names:
            result = api.generate_assignment(unit, force=True, create=True)
            if not result["success"]:
                raise ReleaseError(f"nbgrader could not release {unit}:\n{result.get('log') or result.get('error')}")
            written.append(out / unit / f"{unit}.ipynb")
    return written
