"""Wrong layers for the checker's corpus, one or more per guarantee of issue 11, each with the verdict
it must get: ``Bug(make, verdict, key, words)`` where ``make(rng) -> (forward, backward, inputs,
kwargs)``, ``verdict`` is "fail" (a GradientCheckError with diagnosis ``key``) or "inconclusive"
(a GradientCheckInconclusive with reason ``key``), and ``words`` must appear in the message.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tests import layers as L
from tests.checker import correct as C


@dataclass
class Bug:
    make: object
    verdict: str
    key: str | None
    words: tuple = ()
    absent: tuple = ()  # words that must not appear (a diagnosis the evidence does not support)


def _wrong(case_name, fix, inputs=None, **kwargs):
    """The correct layer ``case_name`` with its gradients passed through ``fix(grads, dout, cache)``."""
    case = C.CORRECT[case_name]
    forward, backward = C.layer(case)

    def make(rng):
        def wrong_backward(dout, cache):
            grads = backward(dout, cache)
            return fix(grads if isinstance(grads, tuple) else (grads,), dout, cache)

        return forward, wrong_backward, (inputs or case.make_inputs)(rng), {**case.kwargs, **kwargs}

    return make


# --- 1. determinism ---------------------------------------------------------------------------------

def _unseeded_dropout(rng):
    def forward(x):
        mask = np.random.default_rng().random(x.shape) < 0.5  # a new mask every call
        return x * mask / 0.5, mask

    return forward, lambda dout, mask: dout * mask / 0.5, {"x": rng.standard_normal((4, 5))}, {}


def _pure_noise(rng):
    return (lambda x: (np.random.default_rng().standard_normal(x.shape), None), lambda dout, c: np.ones_like(dout),
            {"x": rng.standard_normal((3, 4))}, {})


def _jitter(rng):
    def forward(x):
        return 2 * x + 1e-9 * np.random.default_rng().standard_normal(x.shape), None

    return forward, lambda dout, c: -2 * dout, {"x": rng.standard_normal((3, 4))}, {}


# --- 3. kinks and ties ------------------------------------------------------------------------------

def _relu17(rng):
    x = rng.standard_normal((4, 6))
    x[rng.random(x.shape) < 0.3] = 0.0
    x[0, 0] = 0.0
    return (*C.layer(C.Case(C.relu, lambda dout, c: dout * np.where(c[0] == 0, 17.0, c[0] > 0), None)), {"x": x}, {})


def _max_both(rng):
    a = rng.standard_normal((3, 4))
    b = np.where(rng.random(a.shape) < 0.5, a, rng.standard_normal((3, 4)))  # ties at about half the entries
    b[0, 0] = a[0, 0]

    def forward(a, b):
        return np.maximum(a, b), (a, b)

    def backward(dout, cache):
        a, b = cache
        return dout * (a >= b), dout * (b >= a)  # both get the gradient at a tie

    return forward, backward, {"a": a, "b": b}, {}


def _pool_all_ties(rng):
    case = C.CORRECT["max-pool with ties"]

    def backward(dout, cache):
        x = cache[0]
        up = np.repeat(np.repeat(C.maxpool(x), 2, axis=2), 2, axis=3)
        return np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) * (x == up)  # every tied maximum gets it all

    x = case.make_inputs(rng)["x"]
    x[0, 0, :2, :2] = 2.0  # at least one window fully tied
    return C.layer(case)[0], backward, {"x": x}, {}


def _wrong_among_zeros(rng):
    x = rng.standard_normal((4, 6))
    x[rng.random(x.shape) < 0.5] = 0.0
    x[3, 5] = 1.5

    def backward(dout, c):
        dx = dout * (c[0] > 0)
        dx[3, 5] *= 1.5
        return dx

    return C.layer(C.CORRECT["relu"])[0], backward, {"x": x}, {}


# --- 7. time axes, where H, D or N equals T -----------------------------------------------------------

def _rnn(backward, N=3, T=4, D=4, H=4):
    def make(rng):
        inputs = {"x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((N, H)),
                  "Wx": 0.5 * rng.standard_normal((D, H)), "Wh": 0.5 * rng.standard_normal((H, H)),
                  "b": rng.standard_normal(H)}
        return L.rnn_forward, backward, inputs, {"time_axis": 1}

    return make


# --- 8. diagnoses the evidence must support ---------------------------------------------------------

def _mse2(rng):
    """Mean over a batch of 2 of (y - t)^2 (no 1/2), backward missing its factor 2."""
    t = rng.standard_normal((2, 3))
    return (lambda y: (np.array(np.sum((y - t) ** 2) / 2), y), lambda dout, y: dout * (y - t) / 2,
            {"y": rng.standard_normal((2, 3))}, {})


def _sum_vs_mean(rng):
    """1/2 the mean squared error over the batch; backward sums instead (a factor N)."""
    def forward(y, t):
        return np.array(0.5 * np.sum((y - t) ** 2) / y.shape[0]), (y, t)

    return forward, lambda dout, c: (dout * (c[0] - c[1]), -dout * (c[0] - c[1])), \
        {"y": rng.standard_normal((4, 3)), "t": rng.standard_normal((4, 3))}, {}


def _ignores_dout(rng):
    return (lambda x: (np.array(C.ce_logits(x)), (x,)), lambda dout, c: C.ce_logits_b(1.0, c),
            {"x": rng.standard_normal((6, 3))}, {})


def _softmax_diagonal(rng):
    def backward(dout, c):
        s = C._softmax(c[0])
        return dout * s * (1 - s)  # only the diagonal of the Jacobian

    return C.layer(C.CORRECT["softmax at logits 1000 + N(0, 1)"])[0], backward, {"x": rng.standard_normal((3, 5))}, {}


def _softmax_offset_bug(rng):
    def backward(dout, c):
        s = C._softmax(c[0])
        return s * (dout - 0.999 * (dout * s).sum(axis=1, keepdims=True))

    return C.layer(C.CORRECT["softmax at logits 1000 + N(0, 1)"])[0], backward, {"x": 1000 + rng.standard_normal((3, 5))}, {}


def _layernorm_offset_bug(rng):
    def backward(dout, c):
        x, gamma, beta = c
        dx, dg, db = C.layernorm_b(dout, c)
        return dx + (dout * gamma).mean(axis=1, keepdims=True) / np.sqrt(x.var(axis=1, keepdims=True) + C.EPS), dg, db

    return C.layer(C.CORRECT["layernorm"])[0], backward, {"x": 1000 + rng.standard_normal((3, 7)),
                                                           "gamma": rng.standard_normal(7), "beta": rng.standard_normal(7)}, {}


def _bce_small_entries_sign(rng):
    def backward(dout, c):
        g = C.bce_b(dout, c)
        return np.where(c[0] < 0.05, -g, g)

    p = C.sigmoid(4 * rng.standard_normal(8))
    p[0] = 0.01
    return C.layer(C.CORRECT["binary cross-entropy on sigmoid outputs"])[0], backward, {"p": p}, {}


BUGS = {
    # 1. determinism
    "unseeded dropout": Bug(_unseeded_dropout, "inconclusive", "nondeterministic", ("different outputs", "seed")),
    "pure noise, backward ones": Bug(_pure_noise, "inconclusive", "nondeterministic", ("not a function",)),
    "jitter 1e-9, wrong sign": Bug(_jitter, "inconclusive", "nondeterministic", ("different outputs",)),
    # 3. kinks are subgradients
    "ReLU'(0) = 17": Bug(_relu17, "fail", "kink", ("one-sided derivatives",)),
    "max(a, b) feeds both at a tie": Bug(_max_both, "fail", None, ()),
    "max-pool feeds every tied maximum": Bug(_pool_all_ties, "fail", None, ()),
    "one wrong entry among 50% zeros": Bug(_wrong_among_zeros, "fail", None, ("x[3, 5]",)),
    # 4. steps that fit the function
    "-log p, wrong sign": Bug(_wrong("-log p, p down to 1e-3", lambda g, d, c: -g[0]), "fail", "sign", ("wrong sign",)),
    "-log p, factor 2": Bug(_wrong("-log p, p down to 1e-3", lambda g, d, c: 2 * g[0]), "fail", "scale", ("twice",)),
    "cross-entropy on probabilities, wrong sign": Bug(_wrong("cross-entropy on probabilities", lambda g, d, c: -g[0]),
                                                      "fail", "sign", ("wrong sign",)),
    "binary cross-entropy, wrong sign on small entries": Bug(_bce_small_entries_sign, "fail", None, ()),
    "softmax at offset 1000, 0.1% off": Bug(_softmax_offset_bug, "fail", None, ()),
    "layernorm at offset 1000, extra mean term": Bug(_layernorm_offset_bug, "fail", None, ()),
    # 7. time axes from the contract: H == T == D, and N == T
    "RNN H == T: not carried back": Bug(_rnn(L.rnn_backward_no_carry), "fail", "time", ("not carried back",)),
    "RNN H == T: weights from the last step": Bug(_rnn(L.rnn_backward_last_step_weights), "fail", "time",
                                                  ("last step's alone",), ("not carried back",)),
    "RNN H == T: h_t for h_{t-1}": Bug(_rnn(L.rnn_backward_off_by_one), "fail", "time", ("off by one step",),
                                       ("last step's alone",)),
    "RNN H == T: loop skips t = 0": Bug(_rnn(L.rnn_backward_skips_t0), "fail", "time", ("never processes t = 0",),
                                        ("not carried back",)),
    "RNN T = 2: loop skips t = 0": Bug(_rnn(L.rnn_backward_skips_t0, T=2), "fail", "time", ("never processes t = 0",)),
    "RNN T = 2: not carried back": Bug(_rnn(L.rnn_backward_no_carry, T=2), "fail", "time", ("not carried back",)),
    "RNN N == T: dh0 zero": Bug(_rnn(L.rnn_backward_zero_dh0, N=4), "fail", "zeros", ("initial state",),
                                ("sums over all time",)),
    # 8. a diagnosis only when the evidence supports it
    "softmax with only the Jacobian's diagonal": Bug(_softmax_diagonal, "fail", "mismatch", (), ("constant factor",)),
    "loss backward ignores dout": Bug(_ignores_dout, "fail", "ignores_dout", ("ignores dout",), ("wrong sign",)),
    "missing factor 2 at batch size 2": Bug(_mse2, "fail", "scale", ("half the right value",), ("batch size",)),
    "sum vs mean at batch size 4": Bug(_sum_vs_mean, "fail", "scale", ("4 is the batch size",)),
    "uniform 1.001x": Bug(_wrong("dense", lambda g, d, c: (g[0], 1.001 * g[1], g[2])), "fail", "scale",
                          ("uniform", "1.001"), ("Worst entry",)),
    "sign flip shows no worst entry": Bug(_wrong("dense", lambda g, d, c: (g[0], -g[1], g[2])), "fail", "sign", (),
                                          ("Worst entry",)),
}


def _sometimes_random(rng):
    """Dropout on one call in three: the first two calls agree, later ones do not."""
    calls = []

    def forward(x):
        calls.append(1)
        mask = (np.random.default_rng().random(x.shape) < 0.5) if len(calls) % 3 == 0 else np.ones(x.shape, bool)
        return x * mask, mask

    return forward, lambda dout, mask: dout * mask, {"x": rng.standard_normal((4, 5))}, {}


BUGS["dropout on some calls only"] = Bug(_sometimes_random, "inconclusive", "nondeterministic", ("not a function",))


def _kinked(value_at_zero, slope_below=0.0):
    """A leaky ReLU (slope_below; 0 is a ReLU) whose backward uses ``value_at_zero`` at 0."""
    def make(rng):
        x = rng.standard_normal((3, 4))
        x[rng.random(x.shape) < 0.3] = 0.0
        x[0, 0] = 0.0

        def forward(x):
            return np.where(x > 0, x, slope_below * x), x

        def backward(dout, x):
            return dout * np.where(x == 0, value_at_zero, np.where(x > 0, 1.0, slope_below))

        return forward, backward, {"x": x}, {}

    return make


def _abs2(rng):
    x = rng.standard_normal((3, 4))
    x[rng.random(x.shape) < 0.3] = 0.0
    x[1, 1] = 0.0
    return (lambda x: (np.abs(x), x), lambda dout, x: dout * np.where(x == 0, 2.0, np.sign(x)), {"x": x}, {})


def _min_both(rng):
    a = rng.standard_normal((3, 4))
    b = np.where(rng.random(a.shape) < 0.5, a, rng.standard_normal(a.shape))
    b[0, 0] = a[0, 0]
    return (lambda a, b: (np.minimum(a, b), (a, b)), lambda dout, c: (dout * (c[0] <= c[1]), dout * (c[1] <= c[0])),
            {"a": a, "b": b}, {})


def _hidden_float16(rng):
    """float16 arithmetic inside a function that returns float64: steps fall between its values."""
    return (lambda x, W: ((x.astype(np.float16) @ W.astype(np.float16)).astype(np.float64), (x, W)),
            lambda dout, c: (dout @ c[1].T, c[0].T @ dout), {"x": rng.standard_normal((8, 16)), "W": rng.standard_normal((16, 4))}, {})


def _hidden_float32_sign(rng):
    return (lambda x, W: ((x.astype(np.float32) @ W.astype(np.float32)).astype(np.float64), (x, W)),
            lambda dout, c: (dout @ c[1].T, -(c[0].T @ dout)), {"x": rng.standard_normal((64, 256)), "W": rng.standard_normal((256, 32))}, {})


BUGS.update({
    "leaky ReLU, 5 at 0": Bug(_kinked(5.0, 0.1), "fail", "kink", ("one-sided derivatives",)),
    "ReLU, -1 at 0": Bug(_kinked(-1.0), "fail", "kink", ("one-sided derivatives",)),
    "|x|, 2 at 0": Bug(_abs2, "fail", "kink", ("one-sided derivatives",)),
    "min(a, b) feeds both at a tie": Bug(_min_both, "fail", "tie", ("keeps ties tied",)),
    "-log p to 1e-8, factor 2": Bug(_wrong("-log p, p down to 1e-8", lambda g, d, c: 2 * g[0]), "fail", "scale", ("twice",)),
    "1/x, wrong sign": Bug(_wrong("1/x, |x| from 1e-3 to 1e3", lambda g, d, c: -g[0]), "fail", "sign", ()),
    "log(1 - p), factor 2": Bug(_wrong("log(1 - p), p up to 1 - 1e-6", lambda g, d, c: 2 * g[0]), "fail", "scale", ()),
    "binary cross-entropy near 0 and 1, wrong sign": Bug(_wrong("binary cross-entropy, p within 1e-7 of 0 and 1",
                                                                lambda g, d, c: -g[0]), "fail", None, ()),
    "float32 hidden in float64, wrong sign": Bug(_hidden_float32_sign, "fail", None, (), ("tie",)),
    "float16 hidden in float64 (correct)": Bug(_hidden_float16, "inconclusive", None, ("Cannot tell",)),
})
