"""Does the course work for a learner in JupyterLab, in a real browser?

A learner's day on unit 01, driven through headless Chromium in the learner's lab (as
`make lab` starts it: the workspace, the learner role's settings): open the unit from the
file browser, run all cells, see the first stub fail, type a correct solution, see its test
pass, save, Validate with nbgrader's button, run the notebook's own `gradelib check` command
in the lab's terminal; then `make release` leaves the work intact, and the graded notebook's
feedback page renders its math with the network blocked. Each step leaves a screenshot in
the test's temporary folder (printed at the start; pytest shows it on failure); the feedback
page's screenshot is kept in test-artifacts/ (gitignored).
"""
from __future__ import annotations

import contextlib
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
import pytest

from gradelib.course import REPO_ROOT
from gradelib.release import release
from gradelib.workspace import sync

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

# Where the feedback page's screenshot is kept (gitignored).
ARTIFACTS = REPO_ROOT / "test-artifacts"

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
def course_folder(tmp_path):
    """A course folder like a fresh clone's (unit 01 only, to keep the lab light)."""
    if not (REPO_ROOT / "course" / NOTEBOOK).is_file():
        pytest.fail(f"course/{NOTEBOOK} is missing: run `make release`")
    root = tmp_path / "repo"
    for part in ("solutions", "course"):
        shutil.copytree(REPO_ROOT / part / UNIT, root / part / UNIT)
    return root


@pytest.fixture
def workspace(course_folder):
    """The learner's workspace, made as `make lab` makes it."""
    return sync(course=course_folder).workspace


@pytest.fixture
def lab(workspace, tmp_path):
    """The learner's JupyterLab on the workspace, started where `make lab` starts it."""
    with running_lab(workspace, tmp_path / "jupyter", role="learner", cwd=workspace) as server:
        yield server


@pytest.fixture
def page(tmp_path):
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


def _tests_of(notebook: Path) -> list[tuple[str, float]]:
    nb = nbformat.read(notebook, as_version=4)
    return [(c.metadata["nbgrader"]["grade_id"], float(c.metadata["nbgrader"]["points"])) for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def _wait_for_file(path: Path, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text().endswith("\n"):
            return path.read_text()
        time.sleep(0.25)  # polling for what the terminal's command writes
    raise AssertionError(f"{path.name} was not written within {seconds} s")


def test_a_learners_day_in_the_learner_lab(lab, page, course_folder, tmp_path):
    """Can a learner open unit 01 from their workspace, solve its first exercise, save, Validate,
    run the notebook's `gradelib check` command in the lab's terminal, and keep it all through a release?"""
    from playwright.sync_api import expect

    started = time.monotonic()
    shots = Screenshots(page, tmp_path / "screenshots")
    print(f"screenshots: {shots.folder}\nJupyterLab log: {lab.log}")
    stub_at, test_at, solved = first_exercise(lab.root_dir, course_folder / "solutions")
    tests = _tests_of(lab.root_dir / NOTEBOOK)

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
    shots("notebook_open")

    # The learner's tools only: Validate, no instructor tools, no failing course list.
    validate = page.locator(".jp-NotebookPanel-toolbar .validate-button")
    expect(validate).to_be_visible()
    for label in ("Formgrader", "Create assignment", "Course List", "Assignment List"):
        assert page.get_by_text(label, exact=True).count() == 0, f"the learner's lab shows {label!r}"
    if menu_bar_item(page, "Nbgrader").count():
        menu_bar_item(page, "Nbgrader").click()
        items = page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts()
        page.keyboard.press("Escape")
        assert not {"Formgrader", "Course List", "Assignment List"} & set(items), items
    assert page.get_by_text("Error fetching courses").count() == 0

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
    saved_path = lab.root_dir / NOTEBOOK
    assert nbformat.read(saved_path, as_version=4).cells[stub_at].source == solved

    # Validate: nbgrader runs the saved notebook; every test but the solved one fails.
    validate.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=TIMEOUT)
    expect(dialog.get_by_text("The following cell failed:")).to_have_count(len(tests) - 1, timeout=TIMEOUT)
    shots("validated")
    assert "forward_difference is not implemented" not in dialog.inner_text(), "the solved exercise failed validation"
    dialog.locator("button").last.click()
    expect(dialog).to_have_count(0)

    # The lab's terminal: the virtualenv first on PATH, opened where the notebook's command works.
    click_menu(page, "File", "New")
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile("^Terminal$")).click()
    terminal = page.locator(".jp-Terminal")
    expect(terminal).to_be_visible(timeout=TIMEOUT)
    terminal.click()
    page.keyboard.type(f"command -v gradelib > which.txt; gradelib check {NOTEBOOK} > check.txt 2>&1; echo $? > check.rc\n")
    which = _wait_for_file(lab.root_dir / "which.txt", 60).strip()
    rc = _wait_for_file(lab.root_dir / "check.rc", 300).strip()
    shots("terminal")
    report = (lab.root_dir / "check.txt").read_text()
    assert Path(which) == Path(sys.executable).parent / "gradelib", f"the terminal's gradelib is {which}"
    assert rc == "1" and f"{tests[0][0]}" in report and "passed" in report, f"exit {rc}:\n{report}"

    # An instructor releases again (what `make release` runs): the learner's work is intact.
    release(root=course_folder)
    sync(course=course_folder)
    assert nbformat.read(saved_path, as_version=4).cells[stub_at].source == solved
    print(f"browser session took {time.monotonic() - started:.1f} s")


def test_feedback_page_renders_math_offline(page, course_folder, tmp_path):
    """Does a graded notebook's feedback page typeset its math with every network request refused?"""
    from playwright.sync_api import expect

    from gradelib.grading import grade

    submitted = tmp_path / "submitted" / "learner" / UNIT
    submitted.mkdir(parents=True)
    shutil.copy(course_folder / "course" / NOTEBOOK, submitted / f"{UNIT}.ipynb")
    grade(submissions=tmp_path / "submitted", out=tmp_path / "out", root=course_folder, units=[UNIT], workers=1,
          progress=False)
    feedback = tmp_path / "out" / "feedback" / "learner" / UNIT / f"{UNIT}.html"
    assert feedback.is_file()

    requested = []

    def refuse(route):
        requested.append(route.request.url)
        route.abort()

    page.context.route(re.compile(r"^https?://"), refuse)
    page.goto(feedback.as_uri())
    expect(page.locator("body[data-mathjax='done']")).to_have_count(1, timeout=TIMEOUT)
    formulas = page.locator("mjx-container svg")
    assert formulas.count() > 10, "the page's math was not typeset"
    assert "\\frac" not in page.locator("body").inner_text(), "raw LaTeX is left on the page"
    formulas.first.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "feedback_math.png"
    page.screenshot(path=shot)
    print(f"feedback page screenshot: {shot}")
    assert requested == [], f"the page tried the network: {requested[:3]}"
