"""What a benchmark run writes: the machine it ran on, Markdown tables, results.json."""
from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path

__all__ = ["machine", "markdown_table", "pyplot", "save_figure", "write_json"]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """The CPU, core count and library versions the figures came from."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "torch": _version("torch"),
        "nbgrader": _version("nbgrader"),
        "nbval": _version("nbval"),
        "os": f"{platform.system()} {platform.release()}",
        "load_average": _load(),
    }


def _load() -> list[float] | None:
    """Load averages over 1, 5 and 15 minutes: how busy the (shared) machine was."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cell(value, estimated: bool) -> str:
    if value is None:
        text = "—"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    else:
        text = str(value)
    return f"{text} (est.)" if estimated and value is not None else text


def markdown_table(rows: list[dict]) -> str:
    """A Markdown table of ``rows``: keys are the columns, in first-seen order.

    Keys starting with ``_`` are kept for results.json only; a row's ``estimated`` list names
    the columns whose values are extrapolated rather than measured, shown with "(est.)".
    """
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if not k.startswith("_") and k != "estimated" and k not in columns]
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for row in rows:
        est = set(row.get("estimated", ()))
        lines.append("| " + " | ".join(_cell(row.get(c), c in est) for c in columns) + " |")
    return "\n".join(lines)


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def pyplot():
    """matplotlib.pyplot on the Agg backend: benchmarks draw files, never windows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> Path:
    """Lay out, write as a 120-dpi PNG, close; return the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
