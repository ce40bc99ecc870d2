"""Benchmark 6: what an LSTM step costs against the vanilla RNN step, with the course's own cells.

Unit 06's ``lstm_step_forward``/``lstm_step_backward`` against unit 05's ``rnn_step_forward``/
``rnn_step_backward`` (both loaded from the solution notebooks), one step forward and backward
at batch N with D = H, float64, on one BLAS thread, interleaved, medians of the per-repeat
ratios. The LSTM's products are those of a layer with 4H outputs, so its multiply-adds are
exactly four times the RNN's: "× four RNN steps" says how close the measured cost comes to
that count (1 = exactly four RNN steps). What remains above it is the gates' elementwise work
(sigmoids over 3H columns and tanh over 2H, where the RNN has one tanh over H), which weighs
most at small H.

The times are the process's CPU time (``time.process_time``), not wall-clock time: on one BLAS
thread they are the same on an idle machine, but on a shared one a contender that runs longer
than a scheduler time slice waits for the CPU more often than a short one, and wall-clock
ratios between a 1 ms RNN step and a 4 ms LSTM step came out 3 to 5 times too large here.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from gradelib.course import REPO_ROOT

from .course_code import load_functions
from .report import pyplot, save_figure
from .threads import single_threaded
from .timing import median_ratio

__all__ = ["plot", "run"]

UNIT05 = REPO_ROOT / "solutions" / "05_bptt" / "05_bptt.ipynb"
UNIT06 = REPO_ROOT / "solutions" / "06_lstm" / "06_lstm.ipynb"
SIZES, BATCH, REPEATS = (64, 256, 1024), 64, 31
QUICK_SIZES, QUICK_BATCH, QUICK_REPEATS = (16,), 8, 3


def _contenders(rnn: dict, lstm: dict, N: int, H: int, rng) -> dict:
    """One RNN step, four RNN steps and one LSTM step, each forward then backward, on inputs of the real shapes."""
    x, h, c, dh = (rng.standard_normal((N, H)) for _ in range(4))
    Wx4, Wh4 = rng.standard_normal((H, 4 * H)) / np.sqrt(H), rng.standard_normal((H, 4 * H)) / np.sqrt(H)
    b4 = np.zeros(4 * H)
    Wx, Wh, b = Wx4[:, :H].copy(), Wh4[:, :H].copy(), np.zeros(H)

    def rnn_step():
        _, cache = rnn["rnn_step_forward"](x, h, Wx, Wh, b)
        return rnn["rnn_step_backward"](dh, cache)

    def four_rnn_steps():
        for _ in range(4):
            rnn_step()

    def lstm_step():
        _, _, cache = lstm["lstm_step_forward"](x, h, c, Wx4, Wh4, b4)
        return lstm["lstm_step_backward"](dh, dh, cache)

    return {"RNN step": rnn_step, "four RNN steps": four_rnn_steps, "LSTM step": lstm_step}


def cpu_interleaved(contenders: dict, *, repeats: int) -> dict[str, list[float]]:
    """Like timing.interleaved (one warm-up, then every contender once per repeat in a rotating order),
    timed in CPU seconds of this process."""
    names = list(contenders)
    for name in names:
        contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            start = time.process_time()
            contenders[name]()
            times[name].append(time.process_time() - start)
    return times


def run(*, quick: bool = False) -> list[dict]:
    """Rows: one per hidden size H, the LSTM step's time in RNN steps, measured and by multiply-adds."""
    rnn = load_functions(UNIT05, ["rnn_step_forward", "rnn_step_backward"])
    lstm = load_functions(UNIT06, ["lstm_step_forward", "lstm_step_backward"])
    sizes, N, repeats = (QUICK_SIZES, QUICK_BATCH, QUICK_REPEATS) if quick else (SIZES, BATCH, REPEATS)
    rng = np.random.default_rng(0)
    rows = []
    with single_threaded() as threads:
        for H in sizes:
            times = cpu_interleaved(_contenders(rnn, lstm, N, H, rng), repeats=repeats)
            rows.append({
                "N, D = H": f"{N}, {H}",
                "multiply-adds (× RNN step)": 4.0,
                "LSTM step × RNN step": median_ratio(times, "LSTM step", "RNN step"),
                "LSTM step × four RNN steps": median_ratio(times, "LSTM step", "four RNN steps"),
                "_H": H, "_batch": N, "_repeats": repeats, "_numpy_threads": threads["numpy"],
                "_cpu_seconds": {name: statistics.median(t) for name, t in times.items()},
            })
    return rows


def plot(rows: list[dict], out_dir: Path) -> list[Path]:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.4))
    hs = [r["_H"] for r in rows]
    ax.plot(hs, [r["LSTM step × RNN step"] for r in rows], "o-", label="LSTM step, measured")
    ax.axhline(4, color="k", ls="--", lw=1, label="four RNN steps (multiply-adds)")
    ax.set(xscale="log", xlabel="H = D (batch %d)" % rows[0]["_batch"], ylabel="time, in RNN steps",
           title="One LSTM step, forward + backward, against the RNN step (CPU time, medians, one thread)")
    ax.set_ylim(bottom=0)
    ax.legend()
    return [save_figure(fig, out_dir / "lstm_step.png")]
