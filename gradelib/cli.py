"""The `gradelib` command: a thin layer over keyword-only functions that hold the defaults.

Every error gradelib anticipates (no course here, a bad --db, an empty submissions folder,
an unknown unit, ...) is printed as one line, ``gradelib <command>: <what is wrong>``, with a
non-zero exit code; Ctrl-C prints one line and exits 130.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

__all__ = ["build_parser", "command", "main"]

EXIT_INTERRUPTED = 130  # the shell's code for a command ended by SIGINT


class CommandError(Exception):
    """An anticipated failure: its message is the one line the user sees."""


def _course(args: argparse.Namespace):
    from .course import CourseNotFound, find_course

    try:
        return find_course(args.course)
    except CourseNotFound as error:
        raise CommandError(str(error)) from None


def _release(args: argparse.Namespace) -> int:
    from .release import ReleaseError, release

    root = _course(args)
    try:
        written = release(root=root, units=args.units or None)
    except ReleaseError as error:
        raise CommandError(str(error)) from None
    if not written:
        raise CommandError(f"{root} has no solutions/<unit>/<unit>.ipynb to release")
    for path in written:
        print(f"released {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .selfcheck import CheckError, check

    try:
        report = check(args.notebook, **({"timeout": args.timeout} if args.timeout else {}))
    except CheckError as error:
        print(f"gradelib check: {error}", file=sys.stderr)
        return 2
    print(report.table())
    return 0 if report.passed else 1


def _grade(args: argparse.Namespace) -> int:
    from .database import DatabaseError, check_db_url, prepare_schema
    from .grading import grade

    root = _course(args)
    options = {name: getattr(args, name) for name in ("workers", "timeout", "memory_mb") if getattr(args, name) is not None}
    try:
        db_url = check_db_url(args.db) if args.db else None
        if db_url:
            prepare_schema(db_url)
        run = grade(submissions=args.submissions, out=args.out, db_url=db_url, root=root,
                    isolation=not args.no_isolation, **options)
    except (DatabaseError, FileNotFoundError, NotADirectoryError, ValueError) as error:
        raise CommandError(str(error)) from None
    graded = sum(r.status == "graded" for r in run.results)
    print(f"graded {graded} of {len(run.results)} notebooks in {run.seconds:.1f} s")
    for r in run.results:
        if r.status != "graded":
            print(f"  {r.student}/{r.unit}: {r.status}: {r.reason}")
    print(f"grades:   {run.grades_csv}\nreport:   {run.report_md}\nchart:    {run.report_png}\n"
          f"feedback: {run.out / 'feedback'}")
    return 0


def _workspace(args: argparse.Namespace) -> int:
    from .workspace import sync

    root = _course(args)
    try:
        report = sync(course=root, workspace=args.into)
    except FileNotFoundError as error:
        raise CommandError(str(error)) from None
    for line in report.lines():
        print(line)
    print(f"your work is in {report.workspace}")
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gradelib")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradelib", description="Release, check and grade the backpropagation course.")
    parser.add_argument("--version", action="version", version=f"gradelib {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    from .grading.run import grade  # the defaults live on the keyword-only functions, stated once
    from .selfcheck import check

    grade_defaults, check_defaults = grade.__kwdefaults__, check.__kwdefaults__
    course_help = "the course folder (default: the current folder, if it holds solutions/ or course/)"

    rel = commands.add_parser("release", help="regenerate course/ from solutions/ with nbgrader")
    rel.add_argument("units", nargs="*", help="units to release (default: all)")
    rel.add_argument("--course", help=course_help)
    rel.set_defaults(run=_release)

    chk = commands.add_parser("check", help="run your notebook in a fresh kernel and list which tests pass")
    chk.add_argument("notebook", help="for example 01_calculus_recap/01_calculus_recap.ipynb")
    chk.add_argument("--timeout", type=int, help=f"seconds per cell (default {check_defaults['timeout']}, as the grader)")
    chk.set_defaults(run=_check)

    grd = commands.add_parser("grade", help="autograde a class in parallel; write grades.csv, feedback and a report")
    grd.add_argument("--submissions", required=True, help="folder of <student_id>/<unit>/<unit>.ipynb")
    grd.add_argument("--out", required=True, help="folder for grades.csv, feedback/, report.md, report.png, gradebook.db")
    grd.add_argument("--course", help=course_help)
    grd.add_argument("--workers", type=int, help="notebooks graded at once (default: one per core)")
    grd.add_argument("--timeout", type=int, help=f"seconds per cell (default {grade_defaults['timeout']}, as nbgrader)")
    grd.add_argument("--memory-mb", type=int, dest="memory_mb",
                     help=f"memory per notebook in MiB (default {grade_defaults['memory_mb']})")
    grd.add_argument("--db", help="gradebook URL (default: SQLite in --out; e.g. postgresql://user@host/dbname)")
    grd.add_argument("--no-isolation", action="store_true", dest="no_isolation",
                     help="run notebooks without the bubblewrap sandbox (every feedback page says so)")
    grd.set_defaults(run=_grade)

    wsp = commands.add_parser("workspace", help="make or update your own copy of the course (`make lab` runs this)")
    wsp.add_argument("--course", help=course_help)
    wsp.add_argument("--into", help="the workspace folder (default: workspace/ in the course folder)")
    wsp.set_defaults(run=_workspace)
    return parser


class _Interrupts:
    """Remember a Ctrl-C even when a library swallows the KeyboardInterrupt it raises.

    nbgrader's NbGraderAPI catches every exception, KeyboardInterrupt included, and reports
    a failed step; without this, Ctrl-C during a release would read as a release error.
    """

    def __init__(self):
        self.seen = False
        self._previous = None

    def _handler(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def command() -> int:
    """The ``gradelib`` program (its console script and ``python -m gradelib``)."""
    from .startup import skip_unused_imports

    skip_unused_imports()
    return main()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with _Interrupts() as interrupts:
        try:
            code = args.run(args)
        except KeyboardInterrupt:
            interrupts.seen = True
        except CommandError as error:
            if not interrupts.seen:
                print(f"gradelib {args.command}: {error}", file=sys.stderr)
                return 2 if args.command == "grade" else 1
    if interrupts.seen:
        print(f"gradelib {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
