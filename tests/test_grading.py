"""Does `gradelib grade` give every student exactly what they earned, whatever the class submits?

One synthetic class is graded once (module fixture) and then inspected: the reference
solutions, untouched stubs, partial work, and hostile or broken submissions by class —
escapes from the sandbox, reaching other students and later runs, breaking the batch,
resource abuse, submissions that are not what they seem, outputs that attack the reader.
Each hostile notebook solves some exercises and sabotages others, so its expected score is
exact; the victims ("ref", "victim") must keep full marks, nothing private may appear in any
student-visible output, and no process or temporary folder may outlive the run.
"""
from __future__ import annotations

import csv
import json
import os
import re
import secrets
import tempfile
import textwrap
import warnings

import nbformat
import pytest

from gradelib.course import CODE_STUB, REPO_ROOT, units
from gradelib.grading import GradingError, grade

UNIT = "01_calculus_recap"
STUB = textwrap.indent(CODE_STUB, "    ")
CANARY = "gradelib-canary-" + secrets.token_hex(8)  # in the grader's environment: must reach no kernel

pytestmark = pytest.mark.slow


def released_units() -> list[str]:
    return [u for u in units() if (REPO_ROOT / "course" / u / f"{u}.ipynb").is_file()]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """solutions/ copied and released privately: the class is graded against a consistent course."""
    import shutil

    from gradelib.release import release

    root = tmp_path_factory.mktemp("course")
    for unit in released_units():
        shutil.copytree(REPO_ROOT / "solutions" / unit, root / "solutions" / unit)
    release(root=root, units=released_units())
    COURSE.update(root=root, units=released_units())
    yield root
    COURSE.update(root=REPO_ROOT, units=None)


COURSE = {"root": REPO_ROOT, "units": None}  # the class fixture grades against a private release of the course


def course_units() -> list[str]:
    return COURSE["units"] or released_units()


def _solution_code(unit: str) -> dict[str, str]:
    """grade_id -> the instructor's solution cell source without the solution markers."""
    nb = nbformat.read(COURSE["root"] / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    code = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            code[meta["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
            )
    return code


def learner(unit: str, solved=(), bodies=None) -> nbformat.NotebookNode:
    """The released notebook as a learner would submit it: some exercises solved, some bodies replaced."""
    nb = nbformat.read(COURSE["root"] / "course" / unit / f"{unit}.ipynb", as_version=4)
    solutions = _solution_code(unit)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in (bodies or {}):
            assert STUB in cell.source
            cell.source = cell.source.replace(STUB, textwrap.indent(textwrap.dedent(bodies[grade_id]), "    "))
        elif grade_id and (solved == "all" or grade_id in solved):
            if cell.metadata["nbgrader"].get("solution"):
                cell.source = solutions[grade_id]
    return nb


def insert_after(nb, grade_id: str, source: str) -> None:
    """Add a learner's own (ungraded) cell right after the cell ``grade_id``."""
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(textwrap.dedent(source)))


def drop(nb, grade_id: str) -> None:
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]


def cell_with(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


ALL = "all"
WRONG_GRADIENT = {"gradient": "return np.zeros(np.shape(x))"}
MEMBOMB = {"gradient": "hoard = []\nwhile True:\n    hoard.append(np.ones(2**24))"}

# student -> expected points for UNIT out of 6, by class
BASICS = {"ref": 6, "victim": 6, "stub": 0, "partial": 2, "edited": 2, "shuffled": 6, "warner": 6,
          "badjson": 0, "empty": 0}
DISRUPTIVE = {"loop": 4, "membomb": 4, "sysexit": 4, "osexit": 2, "segfault": 2, "flood": 6, "patcher": 2}
ESCAPES = {"esc_programs": 6, "esc_files": 6}
REACH = {"reach_peers": 6, "reach_daemon": 6}
BREAK = {"break_signals": 6, "break_forkbomb": 6}
RESOURCES = {"res_limits": 4, "res_disk": 6}
FAKES = {"fake_link_solution": 0, "fake_link_peer": 0, "fake_link_folder": 0, "fake_fifo": 0, "fake_cells": 0,
         "fake_attachment": 6}
READER = {"xss": 6}
EXPECTED = {**BASICS, **DISRUPTIVE, **ESCAPES, **REACH, **BREAK, **RESOURCES, **FAKES, **READER}


def _put(subs, student, unit, nb_or_bytes):
    path = subs / student / unit / f"{unit}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_bytes, bytes):
        path.write_bytes(nb_or_bytes)
    else:
        with warnings.catch_warnings():  # "shuffled" duplicates cells, ids included, on purpose
            warnings.filterwarnings("ignore", message="Non-unique cell id")
            nbformat.write(nb_or_bytes, path)
    return path


def _solved_with(after: str, source: str, **kw):
    nb = learner(UNIT, solved=ALL, **kw)
    insert_after(nb, after, source)
    return nb


def build_basics(subs):
    for unit in course_units():
        _put(subs, "ref", unit, learner(unit, solved=ALL))
        _put(subs, "stub", unit, learner(unit))
    _put(subs, "victim", UNIT, learner(UNIT, solved=ALL))
    _put(subs, "partial", UNIT, learner(UNIT, solved={"forward_difference", "central_difference"}))
    nb = learner(UNIT, solved={"forward_difference", "central_difference"})
    cell_with(nb, "test_gradient").source = 'print("all good")'
    drop(nb, "test_gradient_descent")
    _put(subs, "edited", UNIT, nb)
    nb = learner(UNIT, solved=ALL)
    first, rest = nb.cells[:2], nb.cells[2:]
    nb.cells = first + [nbformat.from_dict(json.loads(json.dumps(c))) for c in rest] + rest[::-1]
    _put(subs, "shuffled", UNIT, nb)
    body = _solution_code(UNIT)["forward_difference"].split('"""')[-1]
    _put(subs, "warner", UNIT, learner(UNIT, solved={"central_difference", "gradient", "gradient_descent"}, bodies={
        "forward_difference": "import sys, warnings\nprint('debug: computing', file=sys.stderr)\n"
                              "warnings.warn('just a note', UserWarning)\n" + textwrap.dedent(body)}))
    _put(subs, "badjson", UNIT, b'{"cells": [ this is not json')
    _put(subs, "empty", UNIT, b"")


def build_disruptive(subs):
    _put(subs, "loop", UNIT, learner(UNIT, solved=ALL, bodies={"gradient": "while True:\n    pass"}))
    _put(subs, "membomb", UNIT, learner(UNIT, solved=ALL, bodies=MEMBOMB))
    _put(subs, "sysexit", UNIT, learner(UNIT, solved=ALL, bodies={"gradient": "import sys\nsys.exit(1)"}))
    _put(subs, "osexit", UNIT, _solved_with("test_central_difference", "import os\nos._exit(0)"))
    _put(subs, "segfault", UNIT, _solved_with("test_central_difference", "import ctypes\nctypes.string_at(0)"))
    _put(subs, "flood", UNIT, _solved_with("imports", "for i in range(3_000_000):\n    print(i)"))
    nb = learner(UNIT, solved={"forward_difference", "central_difference"}, bodies=WRONG_GRADIENT)
    insert_after(nb, "gradient", """
        import builtins, numpy, numpy.testing, gradelib
        numpy.allclose = lambda *a, **k: True
        numpy.array_equal = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        gradelib.check_gradient = lambda *a, **k: None
        check_gradient = lambda *a, **k: None
        builtins.abs = lambda x: 0
        np = numpy
        get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
        import threading, time
        def keep_patching():
            while True:
                numpy.allclose = lambda *a, **k: True
                time.sleep(0.001)
        threading.Thread(target=keep_patching, daemon=True).start()
    """)
    _put(subs, "patcher", UNIT, nb)


def build_escapes(subs, out):
    solution = REPO_ROOT / "solutions" / UNIT / f"{UNIT}.ipynb"  # and the private course's, below
    private = COURSE["root"] / "solutions" / UNIT / f"{UNIT}.ipynb"
    _put(subs, "esc_programs", UNIT, _solved_with("imports", f"""
        import subprocess
        for cmd in (["cat", {str(solution)!r}], ["ls", "-la", {str(REPO_ROOT)!r}], ["cat", {str(REPO_ROOT / '.git' / 'config')!r}],
                    ["sh", "-c", "cat /proc/*/environ; ls /proc"], ["id"], ["cat", {str(subs / 'ref' / UNIT / (UNIT + '.ipynb'))!r}]):
            try:
                done = subprocess.run(cmd, capture_output=True, timeout=20)
                print(cmd[0], done.returncode, done.stdout.decode(errors="replace")[:3000])
            except Exception as error:
                print(cmd[0], type(error).__name__)
    """))
    _put(subs, "esc_files", UNIT, _solved_with("imports", f"""
        import glob, os, sqlite3
        for path in ({str(solution)!r}, {str(private)!r}, {str(REPO_ROOT / '.git' / 'HEAD')!r}, {str(out / 'gradebook.db')!r},
                     "/proc/1/environ", "/proc/self/environ", "/etc/shadow"):
            try:
                print(path, open(path, errors="replace").read()[:3000])
            except Exception as error:
                print(path, type(error).__name__)
        root = os.open("/", os.O_RDONLY)
        for name in ({str(solution)[1:]!r}, {str(REPO_ROOT / '.git' / 'HEAD')[1:]!r}):
            try:
                print(name, os.read(os.open(name, os.O_RDONLY, dir_fd=root), 3000))
            except Exception as error:
                print(name, type(error).__name__)
        print(glob.glob("/*"), glob.glob("/work/*"), glob.glob({str(REPO_ROOT)!r} + "/*"), glob.glob("/tmp/*"))
        db = sqlite3.connect(":memory:")
        try:
            db.execute("ATTACH DATABASE ? AS class", ({str(out / 'gradebook.db')!r},))
            print(db.execute("select name from class.sqlite_master").fetchall())
        except Exception as error:
            print("attach", type(error).__name__)
    """))


def build_reach(subs):
    _put(subs, "reach_peers", UNIT, _solved_with("imports", """
        import glob, os
        here = os.getcwd()
        found = [p for p in glob.glob("/tmp/**/kernel*.json", recursive=True) + glob.glob(os.path.dirname(here) + "/*/*")
                 if not p.startswith(here)]
        print("others:", found)
        for name in ("ref-01_calculus_recap", "victim-01_calculus_recap", "../ref", "../../ctl"):
            target = os.path.join(here, "..", name)
            try:
                os.makedirs(target, exist_ok=True)
                open(os.path.join(target, "planted"), "w").write("x")
                print("planted in", target)
            except OSError as error:
                print(name, type(error).__name__)
    """))
    _put(subs, "reach_daemon", UNIT, _solved_with("imports", """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    time.sleep(0.5)
            os._exit(0)
        print("daemon started")
    """))


def build_break(subs):
    _put(subs, "break_signals", UNIT, _solved_with("imports", """
        import os, signal
        os.kill(-1, signal.SIGKILL)  # everything this process may signal, but itself
        sent = 0
        for pid in range(2, 4096):  # the grader, the zygote, other kernels: by number
            try:
                os.kill(pid, signal.SIGKILL)
                sent += 1
            except OSError:
                pass
        print("signalled", sent)
    """))
    _put(subs, "break_forkbomb", UNIT, _solved_with("test_gradient_descent", """
        import os, subprocess, sys, time
        bomb = "import os, time\\nwhile True:\\n    try:\\n        os.fork()\\n    except OSError:\\n        time.sleep(0.5)"
        subprocess.Popen([sys.executable, "-c", bomb])
        time.sleep(3)
        print("processes:", len([p for p in os.listdir("/proc") if p.isdigit()]))
    """))


def build_resources(subs):
    nb = learner(UNIT, solved=ALL, bodies=MEMBOMB)
    insert_after(nb, "imports", """
        import resource
        for limit in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NPROC"):
            which = getattr(resource, limit)
            try:
                resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                print(limit, "RAISED")
            except (ValueError, OSError):
                print(limit, "kept")
    """)
    _put(subs, "res_limits", UNIT, nb)
    _put(subs, "res_disk", UNIT, _solved_with("imports", """
        import os
        block, written = b"x" * 2**20, 0
        for folder in (".", "/tmp"):
            for i in range(2000):
                try:
                    with open(os.path.join(folder, f"fill{i}"), "wb") as fh:
                        for _ in range(32):
                            fh.write(block)
                            written += 1
                except OSError as error:
                    break
        print(f"written MiB: {written}")
    """))


def build_fakes(subs):
    solution = REPO_ROOT / "solutions" / UNIT / f"{UNIT}.ipynb"
    for student, target in (("fake_link_solution", solution), ("fake_link_peer", subs / "ref" / UNIT / f"{UNIT}.ipynb")):
        path = subs / student / UNIT / f"{UNIT}.ipynb"
        path.parent.mkdir(parents=True)
        path.symlink_to(target)
    (subs / "fake_link_folder").mkdir()
    (subs / "fake_link_folder" / UNIT).symlink_to(subs / "ref" / UNIT)
    fifo = subs / "fake_fifo" / UNIT / f"{UNIT}.ipynb"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    nb = learner(UNIT, solved=ALL)
    nb.cells += [nbformat.v4.new_code_cell("pass") for _ in range(20_001)]
    _put(subs, "fake_cells", UNIT, nb)
    nb = learner(UNIT, solved=ALL)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("![big](attachment:big.png)", attachments={
        "big.png": {"image/png": "A" * 15_000_000}}))
    _put(subs, "fake_attachment", UNIT, nb)


def build_reader(subs):
    nb = learner(UNIT, solved=ALL)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(
        "Hello <script>document.title='pwned-md'</script> <img src=x onerror=\"document.title='pwned-img'\">"))
    insert_after(nb, "imports", """
        from IPython.display import HTML, Javascript, display
        display(HTML("<script>document.title='pwned-html'</script><img src=x onerror=\\"alert('pwned-out')\\">"))
        display(Javascript("document.title='pwned-js'"))
    """)
    _put(subs, "xss", UNIT, nb)


def build_class(root, out):
    subs = root / "submissions"
    build_basics(subs)
    build_disruptive(subs)
    build_escapes(subs, out)
    build_reach(subs)
    build_break(subs)
    build_resources(subs)
    build_fakes(subs)
    build_reader(subs)
    return subs


def _descendants(pid: int) -> list[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                if fields[0] != "Z":
                    parents[int(entry)] = int(fields[1])
            except OSError:
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def _processes_mentioning(text: str) -> list[str]:
    hits = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmdline = fh.read().decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                hits.append(f"{entry}: {cmdline[:200]}")
    return hits


@pytest.fixture(scope="module")
def graded(tmp_path_factory, course):
    root = tmp_path_factory.mktemp("class")
    out = root / "out"
    subs = build_class(root, out)
    private = tempfile.mkdtemp(prefix="gl-test-")  # the run's temporary folders go here: checked empty afterwards
    saved = tempfile.tempdir, os.environ.get("GRADELIB_CANARY")
    tempfile.tempdir, os.environ["GRADELIB_CANARY"] = private, CANARY
    before = set(_descendants(os.getpid()))  # what earlier tests in this process may still own
    try:
        run = grade(submissions=subs, out=out, workers=2, timeout=30, memory_mb=1536, progress=False,
                    root=course)
    finally:
        tempfile.tempdir = saved[0]
        os.environ.pop("GRADELIB_CANARY")
    leftovers = {"children": sorted(set(_descendants(os.getpid())) - before),
                 "processes": _processes_mentioning(private), "files": os.listdir(private)}
    os.rmdir(private)
    return run, subs, out, leftovers


def scores(run):
    return {(r.student, r.unit): r.score for r in run.results}


def result_of(run, student, unit=UNIT):
    return next(r for r in run.results if r.student == student and r.unit == unit)


def test_reference_solutions_earn_full_marks_in_every_unit(graded):
    """Does the instructor's solution, submitted as a learner would, earn every point of every unit?"""
    run = graded[0]
    for r in run.results:
        if r.student == "ref":
            assert r.status == "graded", (r.unit, r.reason)
            assert r.scores and all(s == m for s, m in r.scores.values()), (r.unit, r.messages)


def test_honest_notebooks_get_no_tampering_notice(graded):
    """Does the tamper repair stay silent for notebooks that patched nothing?"""
    out = graded[2]
    for notebook in (out / "autograded" / "ref").rglob("*.ipynb"):
        assert "restored what this notebook had replaced" not in notebook.read_text(), notebook


def test_untouched_stubs_earn_nothing(graded):
    """Does a notebook submitted as released score 0 in every unit?"""
    run = graded[0]
    stub = [r for r in run.results if r.student == "stub"]
    assert len(stub) == len(course_units())
    assert all(r.status == "graded" and r.score == 0 for r in stub), [(r.unit, r.scores) for r in stub]


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_student_gets_exactly_what_they_solved(graded, student):
    """Partial, hostile and broken notebooks: exact points for the unit, never more, never an aborted batch."""
    result = result_of(graded[0], student)
    assert result.score == EXPECTED[student], (result.status, result.reason, result.messages)


def test_grades_csv_has_one_row_per_student_and_unit(graded):
    """Does grades.csv hold the scores the run reported (0 where nothing was submitted), one row each?"""
    run, _, out, _ = graded
    with open(out / "grades.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {"student_id", "assignment", "score", "max_score"} <= set(rows[0])
    students = {r.student for r in run.results}
    exported = {(r["student_id"], r["assignment"]): float(r["score"]) for r in rows}
    assert len(rows) == len(exported) == len(students) * len(course_units())
    expected = {(s, u): 0.0 for s in students for u in course_units()} | scores(run)
    assert exported == expected
    assert all(float(r["max_score"]) > 0 for r in rows)


def _student_visible(out, student) -> str:
    """The student's feedback page (out/autograded is the instructor's copy, hidden tests included)."""
    return "\n".join(p.read_text(errors="replace") for p in (out / "feedback" / student).rglob("*.html"))


def printed(out, student) -> str:
    """What the student's notebook printed, from the instructor's graded copy."""
    nb = nbformat.read(out / "autograded" / student / UNIT / f"{UNIT}.ipynb", as_version=4)
    return "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) + str(o.get("evalue", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _secrets() -> list[str]:
    """Text that only the instructor's side holds: the canary, solution and hidden-test lines, .git."""
    lines = [CANARY, "### BEGIN SOLUTION", "[core]", "repositoryformatversion"]
    source = nbformat.read(REPO_ROOT / "solutions" / UNIT / f"{UNIT}.ipynb", as_version=4)
    for cell in source.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
            lines += [line.strip() for line in block.splitlines() if len(line.strip()) > 25]
    return lines


@pytest.mark.parametrize("student", sorted({**ESCAPES, **REACH, **BREAK, **RESOURCES}))
def test_nothing_private_reaches_a_student_visible_output(graded, student):
    """Escapes and snoops: does any feedback page or returned notebook show the instructor's secrets?"""
    text = _student_visible(graded[2], student)
    assert text, "nothing was written for this student"
    leaked = [s for s in _secrets() if s in text or s.replace('"', "&quot;") in text]
    assert not leaked, leaked[:3]


def test_escapes_see_no_repository_and_no_grader(graded):
    """Do the kernels see neither the repository's .git and solutions/, nor --out, nor the grader's processes?"""
    text = printed(graded[2], "esc_files") + printed(graded[2], "esc_programs")
    assert "FileNotFoundError" in text and "attach OperationalError" in text
    assert "uid=" in text and "uid=0(" not in text, "the kernel runs as root"
    for name in (".git", "solutions", "grades.csv", "gradebook.db"):
        assert f"'{REPO_ROOT}/{name}'" not in text


def test_victims_and_their_files_are_untouched(graded):
    """Are the students whose files hostile notebooks targeted graded right, their submissions intact?"""
    run, subs, out, _ = graded
    for victim in ("ref", "victim"):
        assert result_of(run, victim).score == 6
        assert nbformat.read(subs / victim / UNIT / f"{UNIT}.ipynb", as_version=4).cells
    assert not list(subs.rglob("planted")) and not list(out.rglob("planted"))


def test_no_process_or_temporary_folder_outlives_the_run(graded):
    """After grading, daemons and fork bombs included: no child process, no kernel, no temporary file left?"""
    leftovers = graded[3]
    assert leftovers == {"children": [], "processes": [], "files": []}


def test_limits_cannot_be_lifted_and_disk_is_bounded(graded):
    """Are the kernel's limits hard, and its writable space bounded?"""
    out = graded[2]
    assert "kept" in printed(out, "res_limits") and "RAISED" not in printed(out, "res_limits")
    written = int(re.search(r"written MiB: (\d+)", printed(out, "res_disk")).group(1))
    assert written <= 256 + 64 + 64, written
    processes = re.search(r"processes: (\d+)", printed(out, "break_forkbomb"))
    assert processes and 8 < int(processes.group(1)) <= 64, printed(out, "break_forkbomb")


@pytest.mark.parametrize("student, words", [
    ("fake_link_solution", "symbolic link"), ("fake_link_peer", "symbolic link"), ("fake_link_folder", "symbolic link"),
    ("fake_fifo", "not a regular file"), ("fake_cells", "over the limit of 2,000"),
])
def test_submissions_that_are_not_what_they_seem_are_refused_with_the_reason(graded, student, words):
    """Symlinks, FIFOs, giant notebooks: refused, 0 points, the reason in the feedback, nothing of their target shown?"""
    run, _, out, _ = graded
    result = result_of(run, student)
    assert result.status == "refused" and words in result.reason
    page = (out / "feedback" / student / UNIT / f"{UNIT}.html").read_text()
    assert words in page and "### BEGIN SOLUTION" not in page and "def forward_difference" not in page
    assert not (out / "autograded" / student).exists()


def test_out_grows_by_a_bounded_amount_per_student(graded):
    """A 15 MB attachment and a 3-million-line flood: are the stored copies and pages small?

    A page holds MathJax and the unit's figures (3 MB for the reference's); the flood and the
    attachment add at most one capped output (CapOutputs, 200,000 characters) and a notice."""
    out = graded[2]
    reference = (out / "feedback" / "ref" / UNIT / f"{UNIT}.html").stat().st_size
    for student in ("fake_attachment", "flood"):
        for path in (out / "autograded" / student).rglob("*"):
            assert path.stat().st_size < 2_000_000, path
        for path in (out / "feedback" / student).rglob("*"):
            assert path.stat().st_size < reference + 250_000, (path, path.stat().st_size, reference)


def test_feedback_runs_no_script_from_student_content(graded):
    """Do markdown scripts, onerror handlers and HTML/JavaScript outputs stay inert in the feedback page?"""
    page = (graded[2] / "feedback" / "xss" / UNIT / f"{UNIT}.html").read_text()
    assert not re.search(r"<script[^>]*>[^<]*pwned", page)
    assert not re.search(r"<img[^>]*onerror", page, re.I)
    assert "application/javascript" not in page or "pwned-js" not in page


def feedback(out, student) -> str:
    return (out / "feedback" / student / UNIT / f"{UNIT}.html").read_text()


@pytest.mark.parametrize("student, reason", [
    ("loop", "ran longer than 30 s and was interrupted"), ("membomb", "MemoryError"), ("sysexit", "SystemExit"),
    ("osexit", "the kernel died"), ("segfault", "the kernel died"), ("badjson", "not a valid notebook"),
    ("empty", "empty"), ("patcher", "restored what this notebook had replaced"),
])
def test_feedback_says_why_points_were_lost(graded, student, reason):
    """Does each student's feedback page name what went wrong in their notebook?"""
    assert reason in feedback(graded[2], student)


def test_a_warning_in_a_test_cell_costs_nothing_and_stays_visible(graded):
    """nbgrader zeroes a test cell with stderr output: is the warning kept, as stdout, with full points?"""
    nb = nbformat.read(graded[2] / "autograded" / "warner" / UNIT / f"{UNIT}.ipynb", as_version=4)
    streams = [o for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") for o in c.get("outputs", [])
               if o.output_type == "stream"]
    assert any("debug: computing" in o.text for o in streams)
    assert all(o.name == "stdout" for o in streams)


def test_feedback_never_shows_hidden_tests(graded):
    """Do the feedback pages show no hidden test code, even where a hidden test failed?"""
    out = graded[2]
    hidden = []
    for unit in course_units():
        source = nbformat.read(REPO_ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
        for cell in source.cells:
            for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
                hidden += [line.strip() for line in block.splitlines() if len(line.strip()) > 25]
    assert hidden
    for page in (out / "feedback").rglob("*.html"):
        text = page.read_text()
        assert "HIDDEN TESTS" not in text, page
        leaked = [line for line in hidden if line in text or line.replace('"', "&quot;") in text]
        assert not leaked, f"{page} shows hidden test lines: {leaked[:3]}"


def test_class_report_lists_every_exercise(graded):
    """Does the class report give a pass rate for each test cell, as a table and a chart?"""
    run, _, out, _ = graded
    table = (out / "report.md").read_text()
    for r in run.results:
        for grade_id in r.scores:
            assert f"| {r.unit} | {grade_id} |" in table
    assert "badjson" in table and "unreadable" in table and "| fake_fifo | 01_calculus_recap | refused |" in table
    for student in ("loop", "membomb", "sysexit", "osexit", "segfault"):
        assert f"| {student} | {UNIT} | disrupted |" in table, student
    assert "| ref |" not in table and "WITHOUT isolation" not in table
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_regrading_into_an_existing_gradebook_updates_the_scores(tmp_path):
    """Graded once as a stub and again once solved, into one --db gradebook: is the new score recorded?"""
    db = f"sqlite:///{tmp_path / 'class.db'}"
    subs = tmp_path / "submissions"
    path = subs / "dana" / UNIT / f"{UNIT}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(learner(UNIT), path)
    first = grade(submissions=subs, out=tmp_path / "out", db_url=db, workers=1, progress=False)
    nbformat.write(learner(UNIT, solved={"forward_difference", "central_difference", "gradient"}), path)
    second = grade(submissions=subs, out=tmp_path / "out", db_url=db, workers=1, progress=False)
    assert [r.score for r in first.results] == [0] and [r.score for r in second.results] == [4]
    with open(second.grades_csv) as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["student_id"], r["assignment"], float(r["score"])) for r in rows] == [("dana", UNIT, 4.0)]
    assert not (tmp_path / "out" / "gradebook.db").exists(), "--db was given: no second gradebook"


def test_without_isolation_every_page_says_so(tmp_path):
    """--no-isolation: still graded right, and the report and the feedback page say it was not isolated?"""
    subs = tmp_path / "submissions"
    _put(subs, "kim", UNIT, learner(UNIT, solved={"forward_difference"}))
    _put(subs, "lee", UNIT, b"")
    run = grade(submissions=subs, out=tmp_path / "out", workers=1, progress=False, isolation=False, units=[UNIT])
    assert [r.score for r in run.results] == [1, 0] and not run.isolated
    for student in ("kim", "lee"):
        assert "WITHOUT isolation" in (tmp_path / "out" / "feedback" / student / UNIT / f"{UNIT}.html").read_text()
    assert "WITHOUT isolation" in run.report_md.read_text()


@pytest.mark.parametrize("option, value, words", [
    ("timeout", 0, "at least 1"), ("memory_mb", 10, "at least 256"), ("workers", 0, "at least 1")])
def test_impossible_limits_are_refused_in_one_sentence(tmp_path, option, value, words):
    """Does grade refuse a zero timeout, a tiny memory limit or no workers before starting anything?"""
    (tmp_path / "subs").mkdir()
    with pytest.raises(GradingError, match=words):
        grade(submissions=tmp_path / "subs", out=tmp_path / "out", **{option: value})
