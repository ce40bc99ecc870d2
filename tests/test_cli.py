"""The `gradelib` command: one clear line for every anticipated error, never a traceback.

Run as a subprocess where what matters is what a user sees in a terminal (exit code,
stderr, the current folder); through `main()` where a failure has to be provoked.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from gradelib import cli
from gradelib.course import REPO_ROOT, CourseNotFound, find_course

GRADELIB = [sys.executable, "-m", "gradelib.cli"]


def _run(args, cwd, **env):
    return subprocess.run([*GRADELIB, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env}, stdin=subprocess.DEVNULL)


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{text}"
    assert "Traceback" not in text
    return lines[0]


def test_version_is_the_installed_distributions():
    """Does `gradelib --version` print the version pip installed?"""
    result = _run(["--version"], cwd=REPO_ROOT)
    assert result.returncode == 0 and result.stdout.strip() == f"gradelib {version('gradelib')}"


@pytest.mark.parametrize("command", [["release"], ["grade", "--submissions", "s", "--out", "o"], ["workspace"]],
                         ids=["release", "grade", "workspace"])
def test_commands_outside_a_course_refuse_in_one_line(command, tmp_path):
    """Run from a folder with no course, does each course command say so and exit non-zero?"""
    result = _run(command, cwd=tmp_path)
    line = _one_line(result.stderr)
    assert result.returncode != 0 and result.stdout == ""
    assert line.startswith(f"gradelib {command[0]}: ") and "not a course folder" in line and "--course" in line
    assert list(tmp_path.iterdir()) == [], "a refused command wrote files"


def test_course_option_naming_a_missing_folder_is_one_line(tmp_path):
    """Does `--course DIR` with no such folder say exactly that?"""
    result = _run(["release", "--course", str(tmp_path / "nope")], cwd=tmp_path)
    assert result.returncode == 1 and "no such folder" in _one_line(result.stderr)


def test_release_with_course_option_works_from_anywhere(tmp_path):
    """Does an installed gradelib release a course named by --course, from another folder?"""
    root = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "solutions" / "01_calculus_recap", root / "solutions" / "01_calculus_recap")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _run(["release", "--course", str(root)], cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"released {root / 'course' / '01_calculus_recap' / '01_calculus_recap.ipynb'}"
    assert list(elsewhere.iterdir()) == []


def test_find_course_defaults_to_the_current_folder(tmp_path, monkeypatch):
    """Is the current folder the course when it has units, and refused when it has none?"""
    monkeypatch.chdir(REPO_ROOT)
    assert find_course() == REPO_ROOT
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CourseNotFound, match="not a course folder"):
        find_course()
    (tmp_path / "course" / "01_x").mkdir(parents=True)
    (tmp_path / "course" / "01_x" / "01_x.ipynb").write_text("{}")
    assert find_course() == tmp_path  # a learner's copy of a released course counts too


def test_check_works_on_a_notebook_outside_any_course(tmp_path):
    """Does `gradelib check` run on a unit's notebook copied anywhere (no course folder around it)?"""
    notebook = tmp_path / "01_calculus_recap.ipynb"
    shutil.copy(REPO_ROOT / "solutions" / "01_calculus_recap" / "01_calculus_recap.ipynb", notebook)
    result = _run(["check", notebook.name], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


def test_grade_without_psycopg_names_the_extra(tmp_path, monkeypatch, capsys):
    """With no PostgreSQL driver installed, is `--db postgresql://...` one line naming the extra?"""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what an environment without it sees
    monkeypatch.chdir(REPO_ROOT)
    code = cli.main(["grade", "--submissions", str(tmp_path), "--out", str(tmp_path / "out"),
                     "--db", "postgresql://teacher@127.0.0.1:5432/backprop"])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and "pip install -e '.[postgres]'" in line and line.startswith("gradelib grade: ")
    assert not (tmp_path / "out").exists(), "nothing is written before the gradebook is known to work"


def test_grade_against_a_closed_port_is_one_line(tmp_path, monkeypatch, capsys):
    """Is a PostgreSQL server that is not there one line, not a traceback?"""
    pytest.importorskip("psycopg", reason="the `postgres` extra is not installed")
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.chdir(REPO_ROOT)
    code = cli.main(["grade", "--submissions", str(tmp_path), "--out", str(tmp_path / "out"),
                     "--db", f"postgresql://teacher:secret@127.0.0.1:{port}/backprop"])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and f"cannot connect to PostgreSQL at 127.0.0.1:{port}" in line
    assert "secret" not in line, "the password must not be printed"


@pytest.mark.parametrize("error", [ValueError("no notebooks under submitted/: expected <student>/<unit>/<unit>.ipynb"),
                                   FileNotFoundError("submitted/ does not exist")], ids=["ValueError", "FileNotFoundError"])
def test_grade_errors_are_one_line(error, tmp_path, monkeypatch, capsys):
    """Is each error grade() raises for bad input printed as its own message, exit 2?"""
    import gradelib.grading

    def refuse(**kwargs):
        raise error

    monkeypatch.setattr(gradelib.grading, "grade", refuse)
    monkeypatch.chdir(REPO_ROOT)
    code = cli.main(["grade", "--submissions", str(tmp_path), "--out", str(tmp_path / "out")])
    assert code == 2 and _one_line(capsys.readouterr().err) == f"gradelib grade: {error}"


def test_grade_passes_the_course_folder_as_root(tmp_path, monkeypatch):
    """Does `--course DIR` reach grade() as root=DIR?"""
    import gradelib.grading

    seen = {}

    def record(**kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(gradelib.grading, "grade", record)
    monkeypatch.chdir(tmp_path)
    cli.main(["grade", "--course", str(REPO_ROOT), "--submissions", "s", "--out", "o", "--workers", "3"])
    assert seen["root"] == REPO_ROOT and seen["workers"] == 3 and seen["db_url"] is None


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys):
    """Does an interrupted command print one line and exit with the shell's 130?"""
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_release", interrupted)
    monkeypatch.chdir(REPO_ROOT)
    assert cli.main(["release"]) == 130
    assert _one_line(capsys.readouterr().err) == "gradelib release: interrupted"


def test_a_real_interrupt_of_a_running_release(tmp_path):
    """Does SIGINT during a real `gradelib release` end it with 130 and one line?"""
    import signal
    import time

    root = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "solutions", root / "solutions")
    proc = subprocess.Popen([*GRADELIB, "release", "--course", str(root)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (root / "course").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)  # waiting for the release to be under way, observed on disk
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode == 0:
        pytest.skip("the release finished before the interrupt arrived")
    assert proc.returncode == 130 and _one_line(err) == "gradelib release: interrupted"


def test_the_program_skips_the_grammar_jsonschema_never_needs_here():
    """`python -m gradelib` (and the console script, the same function) runs without importing
    rfc3987_syntax (1 s of CPU at import), and still reads and validates notebooks."""
    import subprocess
    import sys

    code = ("import sys, runpy; sys.argv = ['gradelib', '--version']\n"
            "try:\n    runpy.run_module('gradelib', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "import nbformat; nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')]))\n"
            "print('loaded' if sys.modules.get('rfc3987_syntax') else 'skipped')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("skipped")
