"""What does the zygote's bubblewrap show a kernel, and what happens where bubblewrap is missing?"""
from __future__ import annotations

import os

import pytest

from gradelib.course import REPO_ROOT
from gradelib.grading import grade, sandbox
from gradelib.grading.records import GradingError


def binds(cmd: list[str]) -> dict[str, str]:
    """target -> "ro" or "rw" for every bind in a bubblewrap command."""
    shown = {}
    for i, arg in enumerate(cmd):
        if arg in ("--ro-bind", "--ro-bind-try", "--bind"):
            shown[cmd[i + 2]] = "rw" if arg == "--bind" else "ro"
    return shown


def test_the_sandbox_shows_the_environment_read_only_and_only_the_slot_writable(tmp_path):
    """Python, /usr and gradelib read-only; the slot read-write; not the repository, its .git or solutions?"""
    if sandbox.bwrap() is None:
        pytest.skip("bubblewrap is not installed")
    cmd = sandbox.zygote_command(str(tmp_path), str(tmp_path / "ctl" / "z.sock"), cache=None)
    shown = binds(cmd)
    assert [path for path, mode in shown.items() if mode == "rw"] == [str(tmp_path)]
    assert shown["/usr"] == "ro" and shown[str(sandbox.GRADELIB)] == "ro"
    for private in (REPO_ROOT, REPO_ROOT / ".git", REPO_ROOT / "solutions", REPO_ROOT / "course", "/root", "/home", "/etc"):
        assert str(private) not in shown, private
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in cmd


def test_the_kernel_environment_holds_nothing_of_the_graders(monkeypatch):
    """Do tokens and database URLs in the grader's environment stay out of the kernel's?"""
    monkeypatch.setenv("PGPASSWORD", "hunter2")
    env = sandbox.kernel_environment()
    assert "hunter2" not in env.values() and env["HOME"] == "/tmp"
    assert set(env) <= {"PATH", "HOME", "LANG", "IPYTHONDIR", "PYTHONDONTWRITEBYTECODE", "MPLBACKEND", "MPLCONFIGDIR",
                        "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}


def test_grading_refuses_without_bubblewrap_unless_isolation_is_off(tmp_path, monkeypatch):
    """No bwrap: one sentence naming the Debian package, and --no-isolation as the way out?"""
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox.os, "access", lambda path, mode: False)
    (tmp_path / "subs").mkdir()
    with pytest.raises(GradingError, match=r"bubblewrap.*--no-isolation") as caught:
        grade(submissions=tmp_path / "subs", out=tmp_path / "out")
    assert "\n" not in str(caught.value)
    with pytest.raises(GradingError, match="is empty"):  # isolation off: the run goes on to the submissions
        grade(submissions=tmp_path / "subs", out=tmp_path / "out", isolation=False)
    assert not os.path.exists(tmp_path / "out" / "grades.csv")
