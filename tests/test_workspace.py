"""gradelib.workspace: does a learner's work survive every release?

Each test builds a small course folder (course/<unit>/<unit>.ipynb as nbgrader releases
them), syncs a workspace from it, plays the learner (edits, runs, deletes), releases again,
and checks what the learner finds.
"""
from __future__ import annotations

import datetime
import json
import shutil

import nbformat
import pytest

from gradelib.cli import main
from gradelib.workspace import DELIVERED, sync

DAY = datetime.date(2026, 11, 25)


def _notebook(*sources: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Unit")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nbformat.writes(nb)


def _release(course, unit, *sources, extra=None):
    folder = course / "course" / unit
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{unit}.ipynb").write_text(_notebook(*sources))
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)


def _sources(path):
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _learner_types(path, cell, text):
    """The learner replaces a code cell's source, as JupyterLab saves it."""
    nb = nbformat.read(path, as_version=4)
    nb.cells[cell].source = text
    nbformat.write(nb, path)


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course-folder"
    _release(root, "01_a", "raise NotImplementedError()")
    _release(root, "02_b", "raise NotImplementedError()", extra={"data.txt": "1 2 3\n"})
    return root


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_first_use_copies_every_unit(course):
    """Does the first sync give the learner every unit, data files included?"""
    report = sync(course=course, today=DAY)
    space = course / "workspace"
    assert report.added == ["01_a", "02_b"]
    assert _sources(space / "01_a" / "01_a.ipynb") == ["raise NotImplementedError()"]
    assert (space / "02_b" / "data.txt").read_text() == "1 2 3\n"


def test_a_second_sync_with_no_new_release_changes_nothing(course):
    """Is syncing again, after the learner worked, a no-op?"""
    sync(course=course, today=DAY)
    space = course / "workspace"
    _learner_types(space / "01_a" / "01_a.ipynb", 1, "def f(x):\n    return 2 * x")
    before = _snapshot(space)
    report = sync(course=course, today=DAY)
    assert report.lines() == [] and sorted(report.unchanged) == ["01_a", "02_b"]
    assert _snapshot(space) == before


def test_a_new_unit_is_added_and_the_others_left_alone(course):
    """Does a unit released later arrive without touching the learner's other work?"""
    sync(course=course, today=DAY)
    space = course / "workspace"
    _learner_types(space / "01_a" / "01_a.ipynb", 1, "mine = 1")
    _release(course, "03_c", "raise NotImplementedError()")
    report = sync(course=course, today=DAY)
    assert report.added == ["03_c"] and (space / "03_c" / "03_c.ipynb").is_file()
    assert _sources(space / "01_a" / "01_a.ipynb") == ["mine = 1"]


def test_a_changed_release_arrives_beside_the_learners_edited_notebook(course):
    """Is the learner's notebook untouched, and the new release next to it, clearly named?"""
    sync(course=course, today=DAY)
    mine = course / "workspace" / "01_a" / "01_a.ipynb"
    _learner_types(mine, 1, "def f(x):\n    return 2 * x")
    _release(course, "01_a", "raise NotImplementedError()", "# a new exercise\nraise NotImplementedError()")
    report = sync(course=course, today=DAY)
    beside = mine.with_name("01_a.new-release-2026-11-25.ipynb")
    assert report.beside == [beside]
    assert _sources(mine) == ["def f(x):\n    return 2 * x"]
    assert _sources(beside) == ["raise NotImplementedError()", "# a new exercise\nraise NotImplementedError()"]
    assert any("01_a.new-release-2026-11-25.ipynb" in line and "untouched" in line for line in report.lines())


def test_syncing_twice_after_a_new_release_leaves_one_copy_beside(course):
    """Is the new release delivered once, not once per `make lab`?"""
    sync(course=course, today=DAY)
    mine = course / "workspace" / "01_a" / "01_a.ipynb"
    _learner_types(mine, 1, "x = 1")
    _release(course, "01_a", "y = 2")
    sync(course=course, today=DAY)
    report = sync(course=course, today=DAY + datetime.timedelta(days=1))
    assert report.beside == [] and report.lines() == []
    assert sorted(p.name for p in mine.parent.iterdir()) == ["01_a.ipynb", "01_a.new-release-2026-11-25.ipynb"]


def test_a_second_changed_release_the_same_day_gets_its_own_name(course):
    """Does a later release never overwrite an earlier copy beside the learner's notebook?"""
    sync(course=course, today=DAY)
    mine = course / "workspace" / "01_a" / "01_a.ipynb"
    _learner_types(mine, 1, "x = 1")
    _release(course, "01_a", "y = 2")
    sync(course=course, today=DAY)
    _release(course, "01_a", "y = 3")
    report = sync(course=course, today=DAY)
    assert [p.name for p in report.beside] == ["01_a.new-release-2026-11-25-2.ipynb"]
    assert _sources(mine.with_name("01_a.new-release-2026-11-25.ipynb")) == ["y = 2"]
    assert _sources(mine) == ["x = 1"]


def test_an_untouched_notebook_is_updated_in_place(course):
    """Does a learner who only ran the cells (outputs, no edits) get the new release in place?"""
    sync(course=course, today=DAY)
    mine = course / "workspace" / "01_a" / "01_a.ipynb"
    nb = nbformat.read(mine, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    nb.cells[1].execution_count = 1
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, mine)
    _release(course, "01_a", "fixed = True")
    report = sync(course=course, today=DAY)
    assert report.updated == [mine] and report.beside == []
    assert _sources(mine) == ["fixed = True"]


def test_a_changed_data_file_the_learner_edited_is_kept(course):
    """Are non-notebook files protected the same way?"""
    sync(course=course, today=DAY)
    data = course / "workspace" / "02_b" / "data.txt"
    data.write_text("my own numbers\n")
    _release(course, "02_b", "raise NotImplementedError()", extra={"data.txt": "4 5 6\n"})
    report = sync(course=course, today=DAY)
    assert data.read_text() == "my own numbers\n"
    assert [p.name for p in report.beside] == ["data.new-release-2026-11-25.txt"]


def test_a_deleted_notebook_is_delivered_again(course):
    """Does a learner who deleted a unit's notebook get it back on the next release, losing nothing?"""
    sync(course=course, today=DAY)
    (course / "workspace" / "01_a" / "01_a.ipynb").unlink()
    _release(course, "01_a", "v2 = True")
    sync(course=course, today=DAY)
    assert _sources(course / "workspace" / "01_a" / "01_a.ipynb") == ["v2 = True"]


def test_work_made_before_the_record_existed_is_never_overwritten(course):
    """With no record of what was delivered (a hand-made folder), is the learner's file kept?"""
    space = course / "workspace" / "01_a"
    space.mkdir(parents=True)
    (space / "01_a.ipynb").write_text(_notebook("my own start"))
    report = sync(course=course, today=DAY)
    assert _sources(space / "01_a.ipynb") == ["my own start"]
    assert [p.name for p in report.beside] == ["01_a.new-release-2026-11-25.ipynb"]


def test_an_unreadable_learner_notebook_counts_as_the_learners_work(course):
    """Is a notebook the learner broke (not JSON) kept, not replaced?"""
    sync(course=course, today=DAY)
    mine = course / "workspace" / "01_a" / "01_a.ipynb"
    mine.write_text("{ not json")
    _release(course, "01_a", "v2 = True")
    sync(course=course, today=DAY)
    assert mine.read_text() == "{ not json"


def test_the_record_of_deliveries_is_hidden_from_the_file_browser(course):
    """Is the delivered copy in a dot-folder (JupyterLab hides those)?"""
    sync(course=course, today=DAY)
    assert DELIVERED.startswith(".") and (course / "workspace" / DELIVERED / "01_a" / "01_a.ipynb").is_file()


def test_no_course_folder_is_one_clear_error(tmp_path):
    """Does syncing from a folder without course/ say to release first?"""
    with pytest.raises(FileNotFoundError, match="gradelib release"):
        sync(course=tmp_path)


def test_release_never_touches_the_workspace(tmp_path):
    """Does `gradelib release` (what `make release` runs) leave the learner's workspace byte for byte?"""
    from gradelib.course import REPO_ROOT

    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "solutions" / "01_calculus_recap", root / "solutions" / "01_calculus_recap")
    shutil.copytree(REPO_ROOT / "course" / "01_calculus_recap", root / "course" / "01_calculus_recap")
    sync(course=root, today=DAY)
    mine = root / "workspace" / "01_calculus_recap" / "01_calculus_recap.ipynb"
    nb = json.loads(mine.read_text())
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "my notes"})
    mine.write_text(json.dumps(nb))
    before = _snapshot(root / "workspace")
    assert main(["release", "--course", str(root)]) == 0
    assert _snapshot(root / "workspace") == before


def test_cli_workspace_prints_where_the_work_is(course, capsys):
    """Does `gradelib workspace` report new units and the folder?"""
    assert main(["workspace", "--course", str(course)]) == 0
    out = capsys.readouterr().out
    assert "new unit 01_a" in out and f"your work is in {course / 'workspace'}" in out
