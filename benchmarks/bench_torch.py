"""Benchmark 3: the course's numpy training step against PyTorch on the CPU.

One step of gradient descent on the same 784-512-512-10 ReLU network, batch 2048, same
parameters and data: unit 04's ``train_step`` (loaded from the solution notebook) against the
same step in PyTorch (autograd, ``cross_entropy``, a functional update that returns new
tensors as ``train_step`` does), in float64 and float32, interleaved; each library with its
default threads, and both on one thread (robust to other load on a shared machine). The
first layer's product alone, X @ W1, is timed alongside: it shows how much of the difference
is the two libraries' BLAS (numpy's OpenBLAS, PyTorch's MKL) rather than the code. Both start every repeat from the same parameters, and their losses and
updated parameters are compared so that the two are known to compute the same step.
"""
from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from . import BenchmarkSkipped
from .report import pyplot, save_figure
from .bench_backprop import BATCH, LAYERS, QUICK_BATCH, QUICK_LAYERS
from .course_code import UNIT04, load_functions
from .threads import single_threaded
from .timing import interleaved, median_ratio

__all__ = ["plot", "run"]

REPEATS, QUICK_REPEATS = 7, 3
LR = 0.1


def _torch_step(torch, params: list, X, y, lr: float):
    """The step of ``train_step`` in PyTorch: (new parameters, loss before the step)."""
    a = X
    for W, b in zip(params[0:-2:2], params[1:-2:2]):
        a = torch.relu(a @ W + b)
    loss = torch.nn.functional.cross_entropy(a @ params[-2] + params[-1], y)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        return [p - lr * g for p, g in zip(params, grads)], loss.item()


def run(*, quick: bool = False) -> list[dict]:
    """One row per dtype and threading: the numpy step's time over PyTorch's, and whether they agree."""
    try:
        import torch
    except ImportError:
        raise BenchmarkSkipped("PyTorch is not installed (pip install -e '.[bench]')") from None
    fns = load_functions(UNIT04, ["init_mlp", "train_step"])
    layers, n, repeats = (QUICK_LAYERS, QUICK_BATCH, QUICK_REPEATS) if quick else (LAYERS, BATCH, REPEATS)
    params64 = fns["init_mlp"](list(layers), seed=0)
    rng = np.random.default_rng(0)
    X64, y = rng.standard_normal((n, layers[0])), rng.integers(0, layers[-1], n)
    rows = []
    for dtype in (np.float64, np.float32):
        rows.append(_compare(torch, fns["train_step"], params64, X64, y, dtype, repeats, threads="default"))
        with single_threaded():
            rows.append(_compare(torch, fns["train_step"], params64, X64, y, dtype, repeats, threads="1"))
    for row in rows:
        row.update({"_network": "-".join(map(str, layers)), "_batch": n})
    return rows


def _compare(torch, train_step, params64, X64, y, dtype, repeats, *, threads) -> dict:
    """Time both steps side by side at one dtype; whether they compute the same step."""
    params = {k: v.astype(dtype) for k, v in params64.items()}
    X = X64.astype(dtype)
    tparams = [torch.tensor(v, requires_grad=True) for v in params.values()]
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)
    out = {}

    def numpy_step():
        out["numpy"] = train_step(params, X, y, LR)

    def torch_step():
        out["torch"] = _torch_step(torch, tparams, tX, ty, LR)

    W1, tW1 = params["W1"], tparams[0].detach()
    times = interleaved({"numpy": numpy_step, "torch": torch_step,
                         "numpy X @ W1": lambda: X @ W1, "torch X @ W1": lambda: tX @ tW1}, repeats=repeats)
    (new_np, loss_np), (new_t, loss_t) = out["numpy"], out["torch"]
    diff = max(float(np.max(np.abs(new_np[k] - t.numpy()))) for k, t in zip(params, new_t))
    tol = 1e-9 if dtype == np.float64 else 1e-4
    return {
        "dtype": np.dtype(dtype).name, "threads": threads,
        "numpy step × torch step": median_ratio(times, "numpy", "torch"),
        "numpy X @ W1 × torch X @ W1": median_ratio(times, "numpy X @ W1", "torch X @ W1"),
        "same step": abs(loss_np - loss_t) <= tol * max(1.0, abs(loss_t)) and diff <= tol,
        "numpy computes in": str(next(iter(new_np.values())).dtype),
        "_numpy_seconds": statistics.median(times["numpy"]), "_torch_seconds": statistics.median(times["torch"]),
        "_loss_numpy": loss_np, "_loss_torch": loss_t, "_max_param_diff": diff, "_repeats": repeats,
        "_torch_threads": torch.get_num_threads(),
    }


def plot(rows: list[dict], out_dir: Path) -> list[Path]:
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6, 3))
    labels = [f"{r['dtype']}\n{'one thread' if r['threads'] == '1' else 'default threads'}" for r in rows]
    ax.bar(labels, [r["numpy step × torch step"] for r in rows], color=["C0", "C0", "C1", "C1"][: len(rows)])
    ax.axhline(1.0, color="k", lw=1, ls="--", label="as fast as PyTorch")
    ax.set_ylim(0, max(1.25, 1.15 * max(r["numpy step × torch step"] for r in rows)))
    ax.set(ylabel="numpy step time / PyTorch step time",
           title=f"One training step, {rows[0]['_network']}, batch {rows[0]['_batch']}")
    ax.legend()
    return [save_figure(fig, out_dir / "torch.png")]
