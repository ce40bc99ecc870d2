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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradelib", description="Release, check and grade the backpropagation course.")
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="regenerate course/ from solutions/ with nbgrader")
    rel.add_argument("units", nargs="*", help="units to release (default: all)")
    rel.set_defaults(run=_release)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
