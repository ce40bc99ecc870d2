"""Grading into a real PostgreSQL server, as the README's `--db postgresql://...` promises.

A throwaway cluster from Debian's `postgresql` package: `initdb` in a temporary folder,
`pg_ctl` on a free loopback port with password authentication, run as the unprivileged
`postgres` user when the tests run as root (PostgreSQL refuses root), stopped in the
fixture's `finally`. Skipped, with the reason, where PostgreSQL or psycopg is missing.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from gradelib.course import COURSE_ID, REPO_ROOT

pytestmark = pytest.mark.slow

UNIT = "01_calculus_recap"
PASSWORD = "s3cret-for-tests"


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


PG_BIN = _pg_bin()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user():
    """preexec_fn that drops to the `postgres` user when running as root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None, None
    user = pwd.getpwnam("postgres")

    def drop():
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return drop, user


def _run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=True, **kwargs)


@contextlib.contextmanager
def _cluster():
    """A running PostgreSQL cluster; yields its URL prefix ``postgresql://teacher:...@127.0.0.1:PORT``."""
    if PG_BIN is None:
        pytest.skip("no PostgreSQL server installed (Debian's `postgresql` package; .ci/run installs it)")
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[postgres]'")
    drop, user = _as_server_user()
    if os.geteuid() == 0 and user is None:
        pytest.skip("running as root and there is no `postgres` user to run the server as")
    folder = Path(tempfile.mkdtemp(prefix="gradelib-pg-"))  # not under pytest's root-only tmp folders
    data, port = folder / "data", _free_port()
    (folder / "pw").write_text(PASSWORD + "\n")
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
        os.chown(folder / "pw", user.pw_uid, user.pw_gid)
    started = False
    try:
        _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "teacher", f"--pwfile={folder / 'pw'}",
              "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8"], preexec_fn=drop)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
             preexec_fn=drop)
        started = True
        yield f"postgresql://teacher:{PASSWORD}@127.0.0.1:{port}"
    finally:
        if started:
            subprocess.run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=120, preexec_fn=drop, stdin=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    """One cluster for this module's tests."""
    with _cluster() as url:
        yield url


@pytest.fixture
def database(server, request):
    """A fresh database on the server, named after the test; yields its URL."""
    import psycopg

    name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:50].lower()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _max_points() -> float:
    nb = nbformat.read(REPO_ROOT / "solutions" / UNIT / f"{UNIT}.ipynb", as_version=4)
    return float(sum(c.metadata["nbgrader"]["points"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")))


def _class(folder: Path, students: dict[str, str]) -> Path:
    """A submissions folder: each student hands in the solution ("right") or the release ("stub")."""
    for student, kind in students.items():
        source = REPO_ROOT / ("solutions" if kind == "right" else "course") / UNIT / f"{UNIT}.ipynb"
        dest = folder / student / UNIT
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, dest / f"{UNIT}.ipynb")
    return folder


def _expected(students: dict[str, str]) -> dict[str, float]:
    return {s: (_max_points() if kind == "right" else 0.0) for s, kind in students.items()}


def _db_scores(db_url: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url, COURSE_ID) as gradebook:
        return {s.student.id: float(s.score) for s in gradebook.assignment_submissions(UNIT)}


def _csv_scores(path: Path) -> dict[str, float]:
    with path.open(newline="") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == UNIT}


def _grade(submissions: Path, out: Path, db_url: str):
    from gradelib.grading import grade

    return grade(submissions=submissions, out=out, db_url=db_url, units=[UNIT], workers=1, progress=False)


def test_a_class_graded_into_postgresql(database, tmp_path):
    """Does a class graded with --db postgresql:// land in PostgreSQL with the right scores, and grades.csv agree?"""
    students = {"alice": "right", "bob": "stub"}
    run = _grade(_class(tmp_path / "submitted", students), tmp_path / "out", database)
    assert all(r.status == "graded" for r in run.results), [(r.student, r.status, r.reason) for r in run.results]
    assert _db_scores(database) == _expected(students)
    assert _csv_scores(run.grades_csv) == _expected(students)
    assert not (tmp_path / "out" / "gradebook.db").exists(), "with --db, no SQLite gradebook is written"


def test_a_regrade_replaces_the_score(database, tmp_path):
    """After bob hands in a corrected notebook and the class is graded again, does PostgreSQL hold his new score?"""
    submitted = _class(tmp_path / "submitted", {"alice": "right", "bob": "stub"})
    _grade(submitted, tmp_path / "out1", database)
    _class(submitted, {"bob": "right"})
    run = _grade(submitted, tmp_path / "out2", database)
    expected = _expected({"alice": "right", "bob": "right"})
    assert _db_scores(database) == expected
    assert _csv_scores(run.grades_csv) == expected


def test_two_concurrent_runs_into_one_database(database, tmp_path):
    """Do two machines' runs (two processes) sharing one gradebook end with every student's score right?"""
    halves = [{"alice": "right", "bob": "stub"}, {"carol": "stub", "dave": "right"}]
    outs = []
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = []
        for i, half in enumerate(halves):
            submitted, out = _class(tmp_path / f"submitted{i}", half), tmp_path / f"out{i}"
            outs.append(out)
            futures.append(pool.submit(subprocess.run, [
                sys.executable, "-m", "gradelib.cli", "grade", "--course", str(REPO_ROOT), "--submissions", str(submitted),
                "--out", str(out), "--db", database, "--workers", "1"],
                capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL))
        results = [f.result() for f in futures]
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr
    expected = {**_expected(halves[0]), **_expected(halves[1])}
    assert _db_scores(database) == expected, "\n".join(r.stdout + r.stderr for r in results)
    for half, out in zip(halves, outs):
        from_csv = _csv_scores(out / "grades.csv")
        # each run's export holds at least its own students, and agrees with the database on every row
        assert set(half) <= set(from_csv)
        assert all(expected[student] == score for student, score in from_csv.items()), from_csv


def test_a_wrong_password_is_one_line(server, tmp_path, monkeypatch, capsys):
    """Does a wrong password give one sentence naming the user, not nbgrader's 144 lines?"""
    from gradelib.cli import main

    url = server.replace(PASSWORD, "not-the-password-42") + "/postgres"
    monkeypatch.chdir(REPO_ROOT)
    assert main(["grade", "--submissions", str(tmp_path), "--out", str(tmp_path / "out"), "--db", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "refused the login of user 'teacher'" in err and "not-the-password-42" not in err


def test_a_missing_database_is_one_line(server):
    """Is a database that does not exist named, with how to create it?"""
    from gradelib.database import DatabaseError, check_db_url

    with pytest.raises(DatabaseError, match=r"has no database 'nope'.*createdb nope"):
        check_db_url(f"{server}/nope")


def test_the_throwaway_cluster_is_stopped_afterwards():
    """Once the cluster's context ends, is the server gone (nothing outlives the tests)?"""
    import psycopg

    with _cluster() as url:
        with psycopg.connect(f"{url}/postgres") as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"{url}/postgres", connect_timeout=5)
