"""The sandbox's policy and output cap, called directly (the e2e grading tests run them in kernels).

The audit hook is never installed here: once added, a hook cannot be removed from a process.
"""
from __future__ import annotations

import io
import os

import pytest

from gradelib.sandbox import _CappedStream, _make_audit_hook


@pytest.fixture
def hook(tmp_path):
    mine, others = tmp_path / "mine", tmp_path / "others"
    mine.mkdir()
    others.mkdir()
    return _make_audit_hook((str(mine.resolve()),), (str(others.resolve()),)), mine, others


def test_writes_are_allowed_only_in_the_notebook_folder(hook):
    """May a kernel write its own folder and nothing else, however the file is opened?"""
    check, mine, others = hook
    check("open", (str(mine / "out.txt"), "w", 0))
    check("open", (str(mine / "sub" / ".." / "x"), "a", 0))
    for path, mode, flags in [(others / "a", "w", 0), ("/tmp/elsewhere", "r+", 0), (mine / ".." / "escape", "x", 0),
                              ("/etc/passwd", None, os.O_WRONLY)]:
        with pytest.raises(PermissionError, match="may write only in its own folder"):
            check("open", (str(path), mode, flags))


def test_reads_are_refused_in_forbidden_folders_only(hook):
    """Can a kernel read the libraries it needs but not the class's other files?"""
    check, mine, others = hook
    check("open", (os.__file__, "r", 0))
    check("open", (str(mine / "data.csv"), "rb", 0))
    with pytest.raises(PermissionError, match="outside this notebook's folder"):
        check("open", (str(others / "alice.ipynb"), "r", 0))
    check("open", (3, "r", 0))  # an already open descriptor


@pytest.mark.parametrize("event, args", [
    ("subprocess.Popen", ("rm", ["rm", "-rf", "/"], None, None)), ("os.system", (b"ls",)), ("os.fork", ()),
    ("os.kill", (1, 9)), ("ctypes.dlopen", ("libc.so.6",)), ("gc.get_referrers", ()),
    ("os.remove", ("/tmp/x",)), ("shutil.rmtree", ("/tmp/y", None)), ("sqlite3.connect", ("/tmp/gradebook.db",)),
])
def test_dangerous_events_are_refused(hook, event, args):
    """Are programs, signals to others, ctypes, gc walks and changes outside the folder refused?"""
    check, _, _ = hook
    with pytest.raises(PermissionError):
        check(event, args)


def test_harmless_events_pass(hook):
    """Do in-memory databases, signals to itself and changes in its own folder pass?"""
    check, mine, _ = hook
    check("sqlite3.connect", (":memory:",))
    check("os.kill", (os.getpid(), 0))
    check("os.remove", (str(mine / "tmp.txt"),))
    check("import", ("numpy", None, None, None, None))


def test_output_is_cut_after_the_limit_with_one_notice():
    """Does a flood stop at the limit, say so once, and start afresh in the next cell?"""
    sink = io.StringIO()
    stream = _CappedStream(sink, 10)
    for _ in range(1000):
        stream.write("0123456789\n")
    assert sink.getvalue().startswith("0123456789")
    assert sink.getvalue().count("output stopped after 10 characters") == 1
    assert len(sink.getvalue()) < 100
    stream.reset()
    stream.write("next")
    assert sink.getvalue().endswith("next")
