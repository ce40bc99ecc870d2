"""``python -m benchmarks [--quick] [--only NAME ...] [--out DIR]``: run the benchmarks, print
their Markdown tables, and write results.md, results.json and PNG plots to ``--out``.

``--quick`` is a smoke run (tiny sizes, to see that every benchmark runs): its figures mean
nothing, so it writes to bench-results-quick/ by default and says so at the top of its
output and its results, never over the full run's bench-results/."""
from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

from . import BENCHMARKS, BenchmarkSkipped
from .report import machine, markdown_table, write_json

TITLES = {
    "bench_gradcheck": "1. Gradient-checking cost: dense layers, 1e2 to 1e6 parameters",
    "bench_backprop": "2. Backprop cost: unit 04's MLP, 784-512-512-10, batch 2048",
    "bench_torch": "3. Unit 04's numpy training step vs PyTorch CPU",
    "bench_grading": "4. Grading throughput: gradelib grade vs sequential nbgrader autograde",
    "bench_ci": "5. CI cost: nbval over all solution notebooks",
    "bench_lstm": "6. LSTM step cost: unit 06's step against unit 05's RNN step",
    "bench_bridge": "7. Bridge call cost: a test's call into the learner's process",
}


def run_one(name: str, *, quick: bool, out: Path) -> dict:
    """Run a benchmark; its rows, plots, seconds, and why it was skipped or failed, if it was."""
    module = importlib.import_module(f"benchmarks.{name}")
    start = time.perf_counter()
    result = {"name": name, "title": TITLES[name], "rows": [], "plots": [], "skipped": None, "error": None}
    try:
        result["rows"] = module.run(quick=quick)
        result["plots"] = [str(p) for p in module.plot(result["rows"], out)]
    except BenchmarkSkipped as skip:
        result["skipped"] = str(skip)
    except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
        result["error"] = traceback.format_exc()
    result["seconds"] = time.perf_counter() - start
    return result


SMOKE = "Smoke run (--quick): tiny sizes, to check that every benchmark runs; these are not benchmark figures."


def render(results: list[dict], info: dict, *, quick: bool = False) -> str:
    lines = [SMOKE, ""] if quick else []
    lines += [f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, numpy {info['numpy']}, "
             f"torch {info['torch'] or 'not installed'}, nbgrader {info['nbgrader']}, nbval {info['nbval']}."]
    for r in results:
        lines += ["", f"### {r['title']}", ""]
        if r["skipped"]:
            lines.append(f"Skipped: {r['skipped']}")
        elif r["error"]:
            lines.append("Failed:\n\n```\n" + r["error"].strip() + "\n```")
        else:
            lines.append(markdown_table(r["rows"]))
        lines.append(f"\n({r['seconds']:.0f} s)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of every benchmark")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, metavar="NAME", help=f"some of {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, help="where results and plots go (default: bench-results/, "
                                                 "bench-results-quick/ with --quick)")
    args = parser.parse_args(argv)
    args.out = args.out or Path("bench-results-quick" if args.quick else "bench-results")
    if args.quick:
        print(f"{SMOKE}\nWriting to {args.out}/.", file=sys.stderr, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine()
    results = []
    for name in args.only or BENCHMARKS:
        print(f"running {name}{' (quick)' if args.quick else ''} ...", file=sys.stderr, flush=True)
        results.append(run_one(name, quick=args.quick, out=args.out))
    text = render(results, info, quick=args.quick)
    print(text)
    (args.out / "results.md").write_text(text)
    write_json(args.out / "results.json", {"machine": info, "quick": args.quick, "benchmarks": results})
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
