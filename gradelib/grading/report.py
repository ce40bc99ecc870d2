"""The class report: scores per unit, pass rate per exercise (Markdown, CSV, a bar chart), and
the notebooks that could not be run normally, all from the run's own records."""
from __future__ import annotations

import csv
import html
import json
from pathlib import Path

from .gradebook import csv_safe
from .outputs import NOT_ISOLATED, Layout
from .records import DISRUPTIONS, JobResult

__all__ = ["class_report"]


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell (a student's error message may hold anything)."""
    return html.escape(text.replace("|", "/").replace("\n", " ").replace("\r", " "))


def _test_order(root: Path, unit: str) -> list[str]:
    """The unit's test cells, in the order learners meet them."""
    try:
        cells = json.loads((root / "course" / unit / f"{unit}.ipynb").read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return []
    return [c["metadata"]["nbgrader"]["grade_id"] for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def class_report(results: list[JobResult], layout: Layout, root: Path, isolated: bool = True) -> tuple[Path, Path]:
    """Per unit: scores; per exercise: pass rate (Markdown, CSV, bar chart); notebooks that misbehaved."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {}
    for result in results:
        for grade_id, (score, max_score) in result.scores.items():
            row = rows.setdefault((result.unit, grade_id), [0, 0, max_score])
            row[0] += score >= max_score
            row[1] += 1
    for result in results:  # students whose notebook could not be graded count as failing everything
        if not result.scores:
            for (unit, grade_id), row in rows.items():
                if unit == result.unit:
                    row[1] += 1
    order = {unit: _test_order(root, unit) for unit in {u for u, _ in rows}}
    ranked = sorted(rows.items(), key=lambda item: (item[0][0], order[item[0][0]].index(item[0][1])
                                                    if item[0][1] in order[item[0][0]] else 10**6, item[0][1]))
    students = sorted({r.student for r in results})
    lines = ["# Class report", "", *([f"**{NOT_ISOLATED}**", ""] if not isolated else []),
             f"{len(students)} students, {len(results)} notebooks graded.", "",
             "| unit | notebooks | mean score | full marks | zero |", "|---|---:|---:|---:|---:|"]
    for unit in sorted({r.unit for r in results}):
        mine = [r for r in results if r.unit == unit]
        top = max((r.max_score for r in mine), default=0)
        mean = sum(r.score for r in mine) / len(mine)
        full = sum(bool(r.scores) and r.score == top for r in mine)
        lines.append(f"| {unit} | {len(mine)} | {mean:.1f} / {top:g} | {full} | {sum(r.score == 0 for r in mine)} |")
    lines += ["", "| unit | exercise | points | passed | pass rate |", "|---|---|---:|---:|---:|"]
    labels, rates = [], []
    for (unit, grade_id), (passed, total, points) in ranked:
        rate = passed / total if total else 0.0
        lines.append(f"| {unit} | {grade_id} | {points:g} | {passed}/{total} | {rate:.0%} |")
        labels.append(f"{unit[:2]} {grade_id}")
        rates.append(rate)
    problems = []
    for r in results:
        if r.status != "graded":
            problems.append((r, r.status, r.reason))
            continue
        for grade_id, message in r.messages.items():
            if any(name in message for name in DISRUPTIONS):
                problems.append((r, "disrupted", f"{grade_id}: {message}"[:300]))
                break
    if problems:
        lines += ["", "## Notebooks that could not be run normally", "",
                  "| student | unit | what happened | first sign |", "|---|---|---|---|"]
        lines += [f"| {r.student} | {r.unit} | {what} | {_cell(why)} |" for r, what, why in problems]
    report_md = layout.report_md
    report_md.write_text("\n".join(lines) + "\n")
    with open(layout.report_csv, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["unit", "exercise", "points", "passed", "students", "pass_rate"])
        for (unit, grade_id), (passed, total, points) in ranked:
            writer.writerow([csv_safe(unit), csv_safe(grade_id), points, passed, total, f"{passed / total if total else 0:.4f}"])

    fig, ax = plt.subplots(figsize=(8, 0.32 * max(len(labels), 3) + 1.2))
    ax.barh(range(len(labels)), [100 * r for r in rates],
            color=["tab:green" if r >= 0.7 else "tab:orange" if r >= 0.4 else "tab:red" for r in rates])
    for y, ((_, _), (passed, total, _)) in enumerate(ranked):
        ax.text(1, y, f"{passed}/{total}", va="center", fontsize=7, color="white" if passed else "black")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="students passing (%)", title=f"Pass rate per exercise ({len(students)} students; passed/graded on each bar)")
    fig.tight_layout()
    report_png = layout.report_png
    fig.savefig(report_png, dpi=120)
    plt.close(fig)
    return report_md, report_png
