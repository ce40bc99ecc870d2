"""The `gradelib` command: a thin layer over keyword-only functions that hold the defaults."""
from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _release(args: argparse.Namespace) -> int:
    from .release import ReleaseError, release

    try:
        for path in release(units=args.units or None):
            print(f"released {path}")
    except ReleaseError as error:
        print(f"gradelib release: {error}", file=sys.stderr)
        return 1
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
    from .grading import grade

    options = {name: getattr(args, name) for name in ("workers", "timeout", "memory_mb") if getattr(args, name) is not None}
    try:
        run = grade(submissions=args.submissions, out=args.out, db_url=args.db, **options)
    except (FileNotFoundError, ValueError) as error:
        print(f"gradelib grade: {error}", file=sys.stderr)
        return 2
    graded = sum(r.status == "graded" for r in run.results)
    print(f"graded {graded} of {len(run.results)} notebooks in {run.seconds:.1f} s")
    for r in run.results:
        if r.status != "graded":
            print(f"  {r.student}/{r.unit}: {r.status}: {r.reason}")
    print(f"grades:   {run.grades_csv}\nreport:   {run.report_md}\nchart:    {run.report_png}\n"
          f"feedback: {run.out / 'feedback'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradelib", description="Release, check and grade the backpropagation course.")
    commands = parser.add_subparsers(dest="command", required=True)

    rel = commands.add_parser("release", help="regenerate course/ from solutions/ with nbgrader")
    rel.add_argument("units", nargs="*", help="units to release (default: all)")
    rel.set_defaults(run=_release)

    chk = commands.add_parser("check", help="run your notebook in a fresh kernel and list which tests pass")
    chk.add_argument("notebook", help="for example course/01_calculus_recap/01_calculus_recap.ipynb")
    chk.add_argument("--timeout", type=int, help="seconds per cell (default 60)")
    chk.set_defaults(run=_check)

    grd = commands.add_parser("grade", help="autograde a class in parallel; write grades.csv, feedback and a report")
    grd.add_argument("--submissions", required=True, help="folder of <student_id>/<unit>/<unit>.ipynb")
    grd.add_argument("--out", required=True, help="folder for grades.csv, feedback/, report.md, report.png, gradebook.db")
    grd.add_argument("--workers", type=int, help="notebooks graded at once (default: one per core)")
    grd.add_argument("--timeout", type=int, help="seconds per cell (default 30, as nbgrader)")
    grd.add_argument("--memory-mb", type=int, dest="memory_mb", help="memory per notebook in MiB (default 2048)")
    grd.add_argument("--db", help="gradebook URL (default: SQLite in --out; e.g. postgresql://host/db)")
    grd.set_defaults(run=_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
