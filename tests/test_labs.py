"""The instructor's lab (`make instructor`): nbgrader's formgrader on the gradebook `gradelib grade` wrote.

A copy of the course is graded with `gradelib grade --out grading-out/` (the layout
nbgrader_config.py points nbgrader at); JupyterLab then starts as the Makefile starts it for
the instructor, and the formgrader's own HTTP API must show the class's scores. No browser
is needed: the learner's lab is driven in tests/test_browser.py.
"""
from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from gradelib.course import REPO_ROOT
from gradelib.release import release

from .jupyterlab_server import running_lab

pytestmark = pytest.mark.slow

UNIT = "01_calculus_recap"


def _get(lab, path):
    request = urllib.request.Request(lab.url + path, headers={"Authorization": f"token {lab.token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, response.read().decode()


@pytest.fixture
def graded_course(tmp_path):
    """A course folder as an instructor has it after `gradelib grade --submissions submitted/ --out grading-out/`."""
    from gradelib.grading import grade

    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "solutions" / UNIT, root / "solutions" / UNIT)
    (released,) = release(root=root, units=[UNIT])
    shutil.copy(REPO_ROOT / "nbgrader_config.py", root)
    for student, source in {"alice": root / "solutions" / UNIT / f"{UNIT}.ipynb", "bob": released}.items():
        (root / "submitted" / student / UNIT).mkdir(parents=True)
        shutil.copy(source, root / "submitted" / student / UNIT / f"{UNIT}.ipynb")
    run = grade(submissions=root / "submitted", out=root / "grading-out", root=root, units=[UNIT], workers=1,
                progress=False)
    assert [r.status for r in run.results] == ["graded", "graded"]
    return root


def test_formgrader_shows_the_scores_gradelib_wrote(graded_course, tmp_path):
    """Does the instructor's lab open the formgrader (no HTTP 500) on grading-out/'s gradebook, with every score?"""
    with running_lab(graded_course, tmp_path / "jupyter", role="instructor", cwd=graded_course) as lab:
        status, _ = _get(lab, "/formgrader")
        assert status == 200, lab.log_tail()
        _, body = _get(lab, "/formgrader/api/assignments")
        assignments = {a["name"]: a for a in json.loads(body)}
        assert assignments[UNIT]["num_submissions"] == 2 and assignments[UNIT]["max_score"] > 0
        total = assignments[UNIT]["max_score"]
        _, body = _get(lab, f"/formgrader/api/submissions/{UNIT}")
        scores = {s["student"]: s["score"] for s in json.loads(body)}
        assert scores == {"alice": total, "bob": 0}, scores
        assert "Traceback" not in lab.log_tail(400) and "500 GET" not in lab.log_tail(400)
    assert not (graded_course / "gradebook.db").exists(), "the formgrader made a gradebook in the course root"


@pytest.mark.parametrize("target, role, root", [("lab", "learner", "workspace"), ("instructor", "instructor", "")])
def test_make_starts_each_lab_as_the_tests_do(target, role, root):
    """Does `make lab` / `make instructor` start JupyterLab with the role's settings, .venv first on PATH,
    on the folder these tests serve (so the tests drive what a newcomer gets)?"""
    import subprocess
    import sys
    from pathlib import Path

    dry = subprocess.run(["make", "-n", target], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    assert dry.returncode == 0, dry.stderr
    launch = next(line for line in dry.stdout.splitlines() if "jupyter lab " in line)
    venv_bin = str(Path(sys.executable).parent)
    assert f'PATH="{venv_bin}:' in launch
    assert f'JUPYTER_CONFIG_PATH="{REPO_ROOT}/jupyter/{role}:{REPO_ROOT}/jupyter/common"' in launch
    assert f'--ServerApp.root_dir="{REPO_ROOT / root if root else REPO_ROOT}"' in launch
    if target == "lab":
        assert f"{venv_bin}/gradelib workspace" in dry.stdout and launch.startswith("cd workspace")
