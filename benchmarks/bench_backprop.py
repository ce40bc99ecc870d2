"""Benchmark 2: what backpropagation costs, with the course's own MLP (unit 04's solution notebook).

Three contenders timed side by side on a 784-512-512-10 ReLU network at batch 2048, float64:
``mlp_loss`` (the forward pass), ``mlp_loss_and_grads`` (forward and backward), and the
forward pass's matrix products alone. The FLOP floor of forward + backward is the products
of the forward pass (F), the same count again for the weight gradients (x.T @ delta), and
again for the deltas passed down (delta @ W.T), except the first layer's, which nobody needs:
3F - F1, about 2.4 F here. Backprop's overhead is its time over that floor.
"""
from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from .course_code import UNIT04, load_functions
from .timing import interleaved, median_ratio

__all__ = ["plot", "run"]

LAYERS, BATCH, REPEATS = (784, 512, 512, 10), 2048, 15
QUICK_LAYERS, QUICK_BATCH, QUICK_REPEATS = (64, 32, 32, 10), 64, 3


def floor_factor(layers) -> float:
    """(3F - F1) / F: the forward + backward products' FLOPs in units of the forward products'."""
    products = [a * b for a, b in zip(layers[:-1], layers[1:])]
    return (3 * sum(products) - products[0]) / sum(products)


def run(*, quick: bool = False) -> list[dict]:
    """Rows: forward, forward + backward and the products alone, relative to the products."""
    fns = load_functions(UNIT04, ["init_mlp", "mlp_loss", "mlp_loss_and_grads"])
    layers, n, repeats = (QUICK_LAYERS, QUICK_BATCH, QUICK_REPEATS) if quick else (LAYERS, BATCH, REPEATS)
    params = fns["init_mlp"](list(layers), seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, layers[0])), rng.integers(0, layers[-1], n)
    weights = [params[f"W{l}"] for l in range(1, len(layers))]
    inputs = [X]  # each layer's input, to time its product on real activations
    for l, W in enumerate(weights[:-1], start=1):
        inputs.append(np.maximum(inputs[-1] @ W + params[f"b{l}"], 0.0))

    def products():
        for a, W in zip(inputs, weights):
            a @ W

    times = interleaved({
        "forward products": products,
        "forward (mlp_loss)": lambda: fns["mlp_loss"](params, X, y),
        "forward + backward (mlp_loss_and_grads)": lambda: fns["mlp_loss_and_grads"](params, X, y),
    }, repeats=repeats)
    floor = floor_factor(layers)
    flops = 2 * n * sum(a * b for a, b in zip(layers[:-1], layers[1:]))
    rows = []
    for name, t in times.items():
        ratio = median_ratio(times, name, "forward products")
        its_floor = floor if "backward" in name else 1.0  # in units of the forward products
        rows.append({
            "pass": name, "FLOP floor (× products)": its_floor, "× forward products": ratio,
            "× FLOP floor": ratio / its_floor,
            "_seconds": statistics.median(t), "_repeats": len(t), "_network": "-".join(map(str, layers)), "_batch": n,
            "_forward_gflops_per_s": flops / statistics.median(times["forward products"]) / 1e9,
        })
    return rows


def plot(rows: list[dict], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    floor = max(r["FLOP floor (× products)"] for r in rows)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    names = [r["pass"] for r in rows]
    ax.barh(names, [r["× forward products"] for r in rows], color=["C7", "C0", "C1"])
    ax.axvline(floor, color="k", ls="--", lw=1, label=f"FLOP floor of forward + backward ({floor:.2f})")
    ax.set(xlabel="time, in units of the forward pass's matrix products",
           title=f"Backprop on a {rows[0]['_network']} MLP, batch {rows[0]['_batch']} (medians)")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    fig.tight_layout()
    path = out_dir / "backprop.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]
