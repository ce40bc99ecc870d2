"""Benchmark 2: what backpropagation costs, with the course's own MLP (unit 04's solution notebook).

Four contenders timed side by side on a 784-512-512-10 ReLU network at batch 2048, float64:
``mlp_loss`` (the forward pass), ``mlp_loss_and_grads`` (forward and backward), the forward
pass's matrix products alone, and all the matrix products of forward and backward alone. The FLOP floor of forward + backward is the products
of the forward pass (F), the same count again for the weight gradients (x.T @ delta), and
again for the deltas passed down (delta @ W.T), except the first layer's, which nobody needs:
3F - F1, about 2.4 F here. Backprop's overhead is its time over that floor; timing the
backward's products too shows whether they run at the forward products' rate.
"""
from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from .course_code import UNIT04, load_functions
from .report import pyplot, save_figure
from .timing import interleaved, median_ratio

__all__ = ["plot", "run"]

LAYERS, BATCH, REPEATS = (784, 512, 512, 10), 2048, 15
QUICK_LAYERS, QUICK_BATCH, QUICK_REPEATS = (64, 32, 32, 10), 64, 3


def floor_factor(layers) -> float:
    """(3F - F1) / F: the forward + backward products' FLOPs in units of the forward products'."""
    products = [a * b for a, b in zip(layers[:-1], layers[1:])]
    return (3 * sum(products) - products[0]) / sum(products)


def run(*, quick: bool = False) -> list[dict]:
    """Rows: the forward products, forward, all products of forward + backward, and forward + backward."""
    fns = load_functions(UNIT04, ["init_mlp", "mlp_loss", "mlp_loss_and_grads"])
    layers, n, repeats = (QUICK_LAYERS, QUICK_BATCH, QUICK_REPEATS) if quick else (LAYERS, BATCH, REPEATS)
    params = fns["init_mlp"](list(layers), seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, layers[0])), rng.integers(0, layers[-1], n)
    forward_products, all_products = _products(params, X, len(layers) - 1, rng)
    times = interleaved({
        "forward products": forward_products,
        "forward (mlp_loss)": lambda: fns["mlp_loss"](params, X, y),
        "forward + backward products": all_products,
        "forward + backward (mlp_loss_and_grads)": lambda: fns["mlp_loss_and_grads"](params, X, y),
    }, repeats=repeats)
    floor = floor_factor(layers)
    flops = 2 * n * sum(a * b for a, b in zip(layers[:-1], layers[1:]))
    rows = []
    for name, t in times.items():
        ratio = median_ratio(times, name, "forward products")
        backward = "backward" in name
        its_floor = floor if backward else 1.0  # in units of the forward products
        its_products = "forward + backward products" if backward else "forward products"
        rows.append({
            "pass": name, "FLOP floor (× products)": its_floor, "× forward products": ratio,
            "× FLOP floor": ratio / its_floor, "× its products alone": median_ratio(times, name, its_products),
            "_seconds": statistics.median(t), "_repeats": len(t), "_network": "-".join(map(str, layers)), "_batch": n,
            "_forward_gflops_per_s": flops / statistics.median(times["forward products"]) / 1e9,
        })
    return rows


def _products(params: dict, X, L: int, rng):
    """The matrix products of the forward pass, and of forward + backward, on arrays of the real shapes."""
    weights = [params[f"W{l}"] for l in range(1, L + 1)]
    inputs = [X]  # each layer's input: the products run on real activations
    for l, W in enumerate(weights[:-1], start=1):
        inputs.append(np.maximum(inputs[-1] @ W + params[f"b{l}"], 0.0))
    deltas = [rng.standard_normal((X.shape[0], W.shape[1])) for W in weights]

    def forward():
        for a, W in zip(inputs, weights):
            a @ W

    def forward_and_backward():
        forward()
        for l in range(L - 1, -1, -1):
            inputs[l].T @ deltas[l]  # the weight gradient
            if l > 0:  # the delta passed down; the first layer's is not needed
                deltas[l] @ weights[l].T

    return forward, forward_and_backward


def plot(rows: list[dict], out_dir: Path) -> list[Path]:
    plt = pyplot()

    floor = max(r["FLOP floor (× products)"] for r in rows)
    fig, ax = plt.subplots(figsize=(8.5, 3.4))
    names = [r["pass"] for r in rows]
    ax.barh(names, [r["× forward products"] for r in rows], color=["C7", "C0", "C7", "C1"][: len(rows)])
    ax.axvline(floor, color="k", ls="--", lw=1, label=f"FLOP floor of forward + backward ({floor:.2f})")
    ax.set(xlabel="time, in units of the forward pass's matrix products",
           title=f"Backprop, {rows[0]['_network']} MLP, batch {rows[0]['_batch']} (medians)")
    ax.invert_yaxis()
    ax.legend(loc="upper right")
    return [save_figure(fig, out_dir / "backprop.png")]
