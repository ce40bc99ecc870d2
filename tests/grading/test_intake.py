"""Does intake refuse a broken class layout in one sentence, and a bad notebook with its reason?"""
from __future__ import annotations

import os

import nbformat
import pytest

from gradelib.grading import intake as intake_module
from gradelib.grading.intake import intake
from gradelib.grading.records import GradingError

KNOWN = ["01_a", "02_b"]


def notebook(cells: int = 2) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1") for _ in range(cells)])
    return nbformat.writes(nb).encode()


def put(subs, student, unit, data: bytes = b""):
    path = subs / student / unit / f"{unit}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data or notebook())
    return path


@pytest.mark.parametrize("make, words", [
    (lambda s: None, "no submissions folder"),
    (lambda s: s.mkdir(), "is empty"),
    (lambda s: (s.mkdir(), (s / "01_a.ipynb").write_text("{}")), "where student folders belong"),
    (lambda s: put(s, '=HYPERLINK("http://x","y")', "01_a"), "student ids must be"),
    (lambda s: put(s, "-cmd", "01_a"), "student ids must be"),
    (lambda s: (put(s, "ann", "01_a"), put(s, "ann", "07_nope")), "unknown unit folders: ann/07_nope"),
    (lambda s: (put(s, "ann", "01_a"), (s / "ann" / "01_a.ipynb").write_text("{}")), "should be in a unit folder"),
    (lambda s: (s / "ann" / "notes").mkdir(parents=True) or (s / "ann" / "notes").rmdir() or (s / "ann").mkdir(exist_ok=True),
     "no submissions of 01_a, 02_b"),
])
def test_a_class_that_cannot_be_graded_is_refused_in_one_sentence(tmp_path, make, words):
    """Empty, missing, wrong layout, formula-like ids, unknown units: one GradingError naming the problem?"""
    subs = tmp_path / "subs"
    make(subs)
    with pytest.raises(GradingError, match=words) as caught:
        intake(subs, KNOWN, KNOWN, tmp_path / "private")
    assert "\n" not in str(caught.value)


def test_good_notebooks_are_copied_into_the_run(tmp_path):
    """Is each notebook read once into the run's private folder, byte for byte?"""
    subs = tmp_path / "subs"
    source = put(subs, "ann", "01_a", notebook(3))
    accepted, refused = intake(subs, KNOWN, KNOWN, tmp_path / "private")
    assert refused == [] and [(a.student, a.unit) for a in accepted] == [("ann", "01_a")]
    assert accepted[0].notebook.read_bytes() == source.read_bytes()
    assert tmp_path / "private" in accepted[0].notebook.parents


def _symlink(subs, tmp_path):
    target = put(tmp_path / "elsewhere", "x", "01_a")
    path = subs / "ann" / "01_a" / "01_a.ipynb"
    path.parent.mkdir(parents=True)
    path.symlink_to(target)


def _folder_link(subs, tmp_path):
    put(tmp_path / "elsewhere", "x", "01_a")
    (subs / "ann").mkdir(parents=True)
    (subs / "ann" / "01_a").symlink_to(tmp_path / "elsewhere" / "x" / "01_a")


def _fifo(subs, tmp_path):
    path = subs / "ann" / "01_a" / "01_a.ipynb"
    path.parent.mkdir(parents=True)
    os.mkfifo(path)


@pytest.mark.parametrize("make, status, words", [
    (_symlink, "refused", "symbolic link"),
    (_folder_link, "refused", "symbolic link"),
    (_fifo, "refused", "not a regular file"),
    (lambda s, t: put(s, "ann", "01_a", notebook(intake_module.MAX_CELLS + 1)), "refused", "over the limit"),
    (lambda s, t: put(s, "ann", "01_a", b" \n"), "unreadable", "empty"),
    (lambda s, t: put(s, "ann", "01_a", b"{not json"), "unreadable", "not a valid notebook"),
    (lambda s, t: (s / "ann" / "01_a").mkdir(parents=True), "missing", "no 01_a.ipynb"),
])
def test_a_bad_submission_costs_that_notebook_with_the_reason(tmp_path, make, status, words):
    """Links, FIFOs (without hanging), giant, empty, broken or missing notebooks: refused with the reason?"""
    subs = tmp_path / "subs"
    make(subs, tmp_path)
    put(subs, "bob", "01_a")
    accepted, refused = intake(subs, KNOWN, KNOWN, tmp_path / "private")
    assert [a.student for a in accepted] == ["bob"]
    assert [(r.student, r.status) for r in refused] == [("ann", status)] and words in refused[0].reason


def test_an_oversized_notebook_is_refused_without_reading_it(tmp_path, monkeypatch):
    """Is a notebook over the size limit refused by its size?"""
    monkeypatch.setattr(intake_module, "MAX_NOTEBOOK_BYTES", 1000)
    subs = tmp_path / "subs"
    put(subs, "ann", "01_a", notebook(40))
    _, refused = intake(subs, KNOWN, KNOWN, tmp_path / "private")
    assert refused[0].status == "refused" and "over the limit" in refused[0].reason
