"""Does the course work for a learner in JupyterLab, in a real browser?

One learner's session on unit 01, driven through headless Chromium: open the notebook
from the file browser, run all cells, see the first stub fail, type a correct solution,
see its test pass, save, and find the code on disk. JupyterLab serves a temporary copy
of course/, so the repository is never modified. Each step leaves a screenshot in the
test's temporary folder (printed at the start of the test; pytest shows it on failure).
"""
from __future__ import annotations

import contextlib
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from gradelib.course import REPO_ROOT

from .jupyterlab_server import find_chromium, launch_chromium, running_lab

CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium: install Debian's `chromium` package (.ci/run does) to run the browser tests",
    ),
]

UNIT = "01_calculus_recap"
NOTEBOOK = f"{UNIT}/{UNIT}.ipynb"

# Milliseconds. Generous because CI has 2 cores shared with other tests: a kernel can take
# tens of seconds to start there.
TIMEOUT = 180_000

# Tracebacks, and anything else a cell writes to stderr.
STDERR = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"


def _code_stub_index(lines: list[str]) -> int:
    """Where nbgrader's `# YOUR CODE HERE` / `raise NotImplementedError()` pair starts."""
    for i, (first, second) in enumerate(zip(lines, lines[1:])):
        if first.strip() == "# YOUR CODE HERE" and second.strip() == "raise NotImplementedError()":
            return i
    raise AssertionError("the stub cell has no '# YOUR CODE HERE / raise NotImplementedError()' lines")


def first_exercise(course: Path, solutions: Path) -> tuple[int, int, str]:
    """The first exercise of the unit: (stub cell index, test cell index, the solved cell's source).

    The solved source is the learner's stub with its code stub replaced by the instructor's
    lines between `### BEGIN SOLUTION` and `### END SOLUTION`: what a learner would type.
    """
    learner = nbformat.read(course / NOTEBOOK, as_version=4)
    stub = next(
        i for i, cell in enumerate(learner.cells)
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    )
    test = next(
        i for i, cell in enumerate(learner.cells)
        if i > stub and cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    )
    grade_id = learner.cells[stub].metadata["nbgrader"]["grade_id"]
    instructor = nbformat.read(solutions / NOTEBOOK, as_version=4)
    solution = next(c.source for c in instructor.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    sol_lines = solution.splitlines()
    begin = next(i for i, line in enumerate(sol_lines) if line.strip() == "### BEGIN SOLUTION")
    end = next(i for i, line in enumerate(sol_lines) if line.strip() == "### END SOLUTION")
    stub_lines = learner.cells[stub].source.splitlines()
    at = _code_stub_index(stub_lines)
    solved = stub_lines[:at] + sol_lines[begin + 1:end] + stub_lines[at + 2:]
    return stub, test, "\n".join(solved)


class Screenshots:
    """Numbered screenshots of the page, one per step, in a folder."""

    def __init__(self, page, folder: Path):
        self.page, self.folder, self.count = page, folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}_{step}.png"
        self.page.screenshot(path=path)
        return path


@pytest.fixture
def course_copy(tmp_path):
    """A copy of course/ for JupyterLab to serve and the learner to change."""
    if not (REPO_ROOT / "course" / NOTEBOOK).is_file():
        pytest.fail(f"course/{NOTEBOOK} is missing: run `make release`")
    return Path(shutil.copytree(REPO_ROOT / "course", tmp_path / "course"))


@pytest.fixture
def lab(course_copy, tmp_path):
    """JupyterLab serving the copy of the course."""
    with running_lab(course_copy, tmp_path / "jupyter") as server:
        yield server


@pytest.fixture
def page(lab, tmp_path):
    """A headless Chromium tab on a fresh profile."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the `test` extra")
    with sync_api.sync_playwright() as playwright:
        context = launch_chromium(playwright, CHROMIUM, tmp_path / "chromium-profile")
        context.set_default_timeout(TIMEOUT)
        tab = context.pages[0] if context.pages else context.new_page()
        try:
            yield tab
        finally:
            # The page as the test left it: on a failure, the step that went wrong.
            with contextlib.suppress(Exception):
                tab.screenshot(path=tmp_path / "screenshots" / "last.png")
            context.close()


def wait_for_idle_kernel(page) -> None:
    """Wait until the notebook's Python kernel is up and not running anything."""
    from playwright.sync_api import expect

    expect(page.locator(".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName")).to_contain_text("Python 3", timeout=TIMEOUT)
    expect(page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=TIMEOUT
    )


def menu_bar_item(page, label: str):
    return page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text=re.compile(f"^{label}$"))


def click_menu(page, menu: str, item: str) -> None:
    """Choose ``item`` from the menu bar's ``menu``, as a learner would."""
    menu_bar_item(page, menu).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()


def run_cell_and_wait(page, cell) -> None:
    """Select ``cell``, run it with Shift+Enter, and wait for its new execution count."""
    from playwright.sync_api import expect

    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    prompt.click()
    page.keyboard.press("Shift+Enter")
    expect(prompt).not_to_have_text(before, timeout=TIMEOUT)
    expect(prompt).to_have_text(re.compile(r"\[\d+\]"), timeout=TIMEOUT)


def test_learner_solves_the_first_exercise_of_unit_01_in_jupyterlab(lab, page, tmp_path):
    """Can a learner open unit 01 in JupyterLab, see its first stub fail, solve it, and save it?"""
    from playwright.sync_api import expect

    started = time.monotonic()
    shots = Screenshots(page, tmp_path / "screenshots")
    print(f"screenshots: {shots.folder}\nJupyterLab log: {lab.log}")
    stub_at, test_at, solved = first_exercise(lab.root_dir, REPO_ROOT / "solutions")

    # Open the unit from the file browser.
    page.goto(lab.lab_url)
    folder = page.locator("#filebrowser .jp-DirListing-item", has_text=UNIT).first
    expect(folder).to_be_visible(timeout=TIMEOUT)
    shots("file_browser")
    folder.dblclick()
    page.locator("#filebrowser .jp-DirListing-item", has_text=f"{UNIT}.ipynb").dblclick()
    wait_for_idle_kernel(page)
    notebook = page.locator(".jp-NotebookPanel .jp-Notebook")
    cells = notebook.locator(".jp-Cell")
    expect(menu_bar_item(page, "Nbgrader")).to_be_visible()  # nbgrader's lab extension is loaded
    shots("notebook_open")

    # Run all cells: execution stops at the first visible test, which calls the stub.
    click_menu(page, "Run", "Run All Cells")
    test_cell = cells.nth(test_at)
    error = test_cell.locator(STDERR).last
    expect(error).to_be_visible(timeout=TIMEOUT)
    wait_for_idle_kernel(page)
    test_cell.scroll_into_view_if_needed()
    shots("run_all_stub_fails")
    message = error.inner_text()
    assert "Traceback" in message and (
        "NotImplementedError" in message or "not implemented" in message.lower()
    ), f"the first test, run against the stub, should fail saying it is not implemented; it says:\n{message}"

    # Type the solution over the stub, run the stub and its test again.
    editor = cells.nth(stub_at).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(solved)
    expect(editor).to_have_text(solved.replace("\n", ""), use_inner_text=False, timeout=TIMEOUT)
    shots("solution_typed")
    run_cell_and_wait(page, cells.nth(stub_at))
    run_cell_and_wait(page, test_cell)
    wait_for_idle_kernel(page)
    test_cell.scroll_into_view_if_needed()
    shots("test_passes")
    errors = test_cell.locator(STDERR).all_inner_texts()
    assert not errors, "the first test still fails after typing the solution:\n" + "\n".join(errors)

    # Save, and find the new code on disk.
    page.keyboard.press("Control+s")
    expect(page.locator("#jp-main-dock-panel .lm-TabBar-tab.jp-mod-dirty")).to_have_count(0, timeout=TIMEOUT)
    shots("saved")
    saved = nbformat.read(lab.root_dir / NOTEBOOK, as_version=4)
    assert saved.cells[stub_at].source == solved
    print(f"browser session took {time.monotonic() - started:.1f} s")
