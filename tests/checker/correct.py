"""Correct layers for the checker's corpus: each forward written once (autograd can differentiate it,
tests/checker/test_reference.py holds every hand-written backward to autograd's), each backward by hand.

A case is ``Case(forward, backward, make_inputs, kwargs)``: ``make_inputs(rng)`` gives the inputs
dict; ``forward(*inputs) -> out`` is pure (no cache), wrapped into the course contract by
``layer(case)``. Dimension letters: N batch, D input features, H hidden, T time, C classes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

try:
    import autograd.numpy as anp
except ImportError:  # the reference test skips; the forwards below still run on numpy
    anp = np


@dataclass
class Case:
    forward: object  # forward(*inputs) -> out
    backward: object  # backward(dout, inputs tuple) -> gradients
    make_inputs: object  # rng -> dict
    kwargs: dict = field(default_factory=dict)  # extra check_layer options (time_axis)
    reference: bool = True  # compare the backward with autograd's at this point


def layer(case: Case):
    """(forward, backward) in the course's contract, the cache being the inputs."""
    def forward(*args):
        return case.forward(*args), args

    def backward(dout, cache):
        return case.backward(dout, cache)

    return forward, backward


# --- dense, activations -------------------------------------------------------------------------

def dense(x, W, b):
    return anp.dot(x, W) + b


def dense_b(dout, c):
    x, W, b = c
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def tanh_dense(x, W):
    return anp.tanh(anp.dot(x, W))


def tanh_dense_b(dout, c):
    x, W = c
    dz = dout * (1 - np.tanh(x @ W) ** 2)
    return dz @ W.T, x.T @ dz


def relu(x):
    return anp.maximum(x, 0.0)


def relu_b(dout, c):
    return dout * (c[0] > 0)


def sigmoid(x):
    return 1 / (1 + anp.exp(-x))


def sigmoid_b(dout, c):
    s = 1 / (1 + np.exp(-c[0]))
    return dout * s * (1 - s)


# --- convolution, pooling ------------------------------------------------------------------------

STRIDE, PAD = 2, 1


def _windows(H, k):
    return (H + 2 * PAD - k) // STRIDE + 1


def conv2d(x, w, b):
    """x (N, C, H, W), w (F, C, k, k), b (F,) -> (N, F, H', W'), stride 2, zero padding 1."""
    k = w.shape[2]
    xp = anp.pad(x, ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)), mode="constant")
    Ho, Wo = _windows(x.shape[2], k), _windows(x.shape[3], k)
    out = 0.0
    for i in range(k):
        for j in range(k):
            patch = xp[:, :, i:i + STRIDE * (Ho - 1) + 1:STRIDE, j:j + STRIDE * (Wo - 1) + 1:STRIDE]
            out = out + anp.einsum("nchw,fc->nfhw", patch, w[:, :, i, j])
    return out + b[None, :, None, None]


def conv2d_b(dout, c):
    x, w, b = c
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    Ho, Wo = dout.shape[2], dout.shape[3]
    for i in range(k):
        for j in range(k):
            sl = (slice(None), slice(None), slice(i, i + STRIDE * (Ho - 1) + 1, STRIDE), slice(j, j + STRIDE * (Wo - 1) + 1, STRIDE))
            dw[:, :, i, j] = np.einsum("nfhw,nchw->fc", dout, xp[sl])
            dxp[sl] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
    return dxp[:, :, PAD:-PAD, PAD:-PAD], dw, dout.sum(axis=(0, 2, 3))


def maxpool(x):
    """2x2 windows, stride 2: x (N, C, H, W) -> (N, C, H/2, W/2)."""
    N, C, H, W = x.shape
    return anp.max(anp.max(x.reshape(N, C, H // 2, 2, W // 2, 2), axis=5), axis=3)


def maxpool_b(dout, c):
    """All of each window's gradient to its first maximum (ties: the first wins)."""
    x = c[0]
    N, C, H, W = x.shape
    win = x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // 2, W // 2, 4)
    first = win.argmax(axis=-1)
    dwin = np.zeros_like(win)
    np.put_along_axis(dwin, first[..., None], dout[..., None], axis=-1)
    return dwin.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)


# --- normalisation, softmax family ---------------------------------------------------------------

EPS = 1e-5


def batchnorm(x, gamma, beta):
    mu = anp.mean(x, axis=0)
    var = anp.mean((x - mu) ** 2, axis=0)
    return gamma * (x - mu) / anp.sqrt(var + EPS) + beta


def batchnorm_b(dout, c):
    x, gamma, beta = c
    N = x.shape[0]
    mu, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + EPS)
    dxhat = dout * gamma
    dx = (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (N * np.sqrt(var + EPS))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def layernorm(x, gamma, beta):
    mu = anp.mean(x, axis=1, keepdims=True)
    var = anp.mean((x - mu) ** 2, axis=1, keepdims=True)
    return gamma * (x - mu) / anp.sqrt(var + EPS) + beta


def layernorm_b(dout, c):
    x, gamma, beta = c
    D = x.shape[1]
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + EPS)
    dxhat = dout * gamma
    dx = (D * dxhat - dxhat.sum(axis=1, keepdims=True) - xhat * (dxhat * xhat).sum(axis=1, keepdims=True)) / (D * np.sqrt(var + EPS))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def logsumexp(x):
    m = anp.max(x, axis=1, keepdims=True)
    return (m + anp.log(anp.sum(anp.exp(x - m), axis=1, keepdims=True)))[:, 0]


def logsumexp_b(dout, c):
    return _softmax(c[0]) * dout[:, None]


def softmax(x):
    e = anp.exp(x - anp.max(x, axis=1, keepdims=True))
    return e / anp.sum(e, axis=1, keepdims=True)


def softmax_b(dout, c):
    s = _softmax(c[0])
    return s * (dout - (dout * s).sum(axis=1, keepdims=True))


LABELS = np.array([0, 2, 1, 2, 0, 1])


def ce_logits(x):
    """Mean cross-entropy of softmax(x) (N, C) against LABELS: a scalar."""
    N = x.shape[0]
    m = anp.max(x, axis=1, keepdims=True)
    logp = x - m - anp.log(anp.sum(anp.exp(x - m), axis=1, keepdims=True))
    return -anp.sum(logp * np.eye(x.shape[1])[LABELS[:N]]) / N


def ce_logits_b(dout, c):
    x = c[0]
    N = x.shape[0]
    return dout * (_softmax(x) - np.eye(x.shape[1])[LABELS[:N]]) / N


def ce_probs(p):
    """Mean of -log p[n, label]: cross-entropy on probabilities (N, C), a scalar."""
    N = p.shape[0]
    return -anp.sum(anp.log(p) * np.eye(p.shape[1])[LABELS[:N]]) / N


def ce_probs_b(dout, c):
    p = c[0]
    N = p.shape[0]
    return -dout * np.eye(p.shape[1])[LABELS[:N]] / (N * p)


def neglog(p):
    return -anp.log(p)


def neglog_b(dout, c):
    return -dout / c[0]


TARGETS = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0])


def bce(p):
    """Binary cross-entropy of sigmoid outputs p (N,) against TARGETS, mean: a scalar."""
    t = TARGETS[: p.shape[0]]
    return -anp.mean(t * anp.log(p) + (1 - t) * anp.log(1 - p))


def bce_b(dout, c):
    p = c[0]
    t = TARGETS[: p.shape[0]]
    return dout * (p - t) / (p * (1 - p)) / p.shape[0]


# --- recurrent layers ------------------------------------------------------------------------------

def _sig(z):
    return 1 / (1 + anp.exp(-z))


def lstm_step(x, h, c, Wx, Wh, b):
    """One step: x (N, D), h, c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,) -> [h', c'] (N, 2H)."""
    H = h.shape[1]
    a = anp.dot(x, Wx) + anp.dot(h, Wh) + b
    i, f, o, g = _sig(a[:, :H]), _sig(a[:, H:2 * H]), _sig(a[:, 2 * H:3 * H]), anp.tanh(a[:, 3 * H:])
    c2 = f * c + i * g
    return anp.concatenate([o * anp.tanh(c2), c2], axis=1)


def _lstm_step_back(dh2, dc2, x, h, c, Wx, Wh, b):
    H = h.shape[1]
    a = x @ Wx + h @ Wh + b
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    i, f, o, g = s(a[:, :H]), s(a[:, H:2 * H]), s(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    c2 = f * c + i * g
    tc = np.tanh(c2)
    dc = dc2 + dh2 * o * (1 - tc**2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dh2 * tc * o * (1 - o), dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, h.T @ da, da.sum(axis=0)


def lstm_step_b(dout, cache):
    x, h, c, Wx, Wh, b = cache
    H = h.shape[1]
    dx, dh, dc, dWx, dWh, db = _lstm_step_back(dout[:, :H], dout[:, H:], *cache)
    return dx, dh, dc, dWx, dWh, db


def lstm_seq(x, h0, Wx, Wh, b):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), c0 = 0."""
    H = h0.shape[1]
    h, c, hs = h0, anp.zeros(h0.shape), []
    for t in range(x.shape[1]):
        hc = lstm_step(x[:, t], h, c, Wx, Wh, b)
        h, c = hc[:, :H], hc[:, H:]
        hs.append(h)
    return anp.stack(hs, axis=1)


def lstm_seq_b(dhs, cache):
    x, h0, Wx, Wh, b = cache
    N, T, _ = x.shape
    H = h0.shape[1]
    states, h, c = [], h0, np.zeros_like(h0)
    for t in range(T):
        states.append((h, c))
        hc = lstm_step(x[:, t], h, c, Wx, Wh, b)
        h, c = hc[:, :H], hc[:, H:]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh, dc = np.zeros_like(h0), np.zeros_like(h0)
    for t in reversed(range(T)):
        hp, cp = states[t]
        dx[:, t], dh, dc, gWx, gWh, gb = _lstm_step_back(dhs[:, t] + dh, dc, x[:, t], hp, cp, Wx, Wh, b)
        dWx, dWh, db = dWx + gWx, dWh + gWh, db + gb
    return dx, dh, dWx, dWh, db


def gru_step(x, h, Wx, Wh, b):
    """x (N, D), h (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,) -> h' (N, H)."""
    H = h.shape[1]
    ax, ah = anp.dot(x, Wx) + b, anp.dot(h, Wh)
    z, r = _sig(ax[:, :H] + ah[:, :H]), _sig(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = anp.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
    return (1 - z) * n + z * h


def _gru_back(dh2, x, h, Wx, Wh, b):
    H = h.shape[1]
    ax, ah = x @ Wx + b, h @ Wh
    s = lambda q: 1 / (1 + np.exp(-q))  # noqa: E731
    z, r = s(ax[:, :H] + ah[:, :H]), s(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
    dn = dh2 * (1 - z)
    dz = dh2 * (h - n)
    dan = dn * (1 - n**2)
    dr = dan * ah[:, 2 * H:]
    dazs, dars = dz * z * (1 - z), dr * r * (1 - r)
    dax = np.concatenate([dazs, dars, dan], axis=1)
    dah = np.concatenate([dazs, dars, dan * r], axis=1)
    dh = dh2 * z + dah @ Wh.T
    return dax @ Wx.T, dh, x.T @ dax, h.T @ dah, dax.sum(axis=0)


def gru_step_b(dout, cache):
    return _gru_back(dout, *cache)


def gru_seq(x, h0, Wx, Wh, b):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = gru_step(x[:, t], h, Wx, Wh, b)
        hs.append(h)
    return anp.stack(hs, axis=1)


def gru_seq_b(dhs, cache):
    x, h0, Wx, Wh, b = cache
    T = x.shape[1]
    states, h = [], h0
    for t in range(T):
        states.append(h)
        h = gru_step(x[:, t], h, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db, dh = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b), np.zeros_like(h0)
    for t in reversed(range(T)):
        dx[:, t], dh, gWx, gWh, gb = _gru_back(dhs[:, t] + dh, x[:, t], states[t], Wx, Wh, b)
        dWx, dWh, db = dWx + gWx, dWh + gWh, db + gb
    return dx, dh, dWx, dWh, db


# --- attention, embedding, dropout, scales ---------------------------------------------------------

def attention(Q, K, V):
    """Q, K (N, T, d), V (N, T, e) -> softmax(Q K^T / sqrt d) V, (N, T, e)."""
    S = anp.einsum("ntd,nsd->nts", Q, K) / np.sqrt(Q.shape[2])
    E = anp.exp(S - anp.max(S, axis=2, keepdims=True))
    A = E / anp.sum(E, axis=2, keepdims=True)
    return anp.einsum("nts,nse->nte", A, V)


def attention_b(dout, c):
    Q, K, V = c
    d = Q.shape[2]
    S = np.einsum("ntd,nsd->nts", Q, K) / np.sqrt(d)
    E = np.exp(S - S.max(axis=2, keepdims=True))
    A = E / E.sum(axis=2, keepdims=True)
    dA = np.einsum("nte,nse->nts", dout, V)
    dS = A * (dA - (dA * A).sum(axis=2, keepdims=True)) / np.sqrt(d)
    return np.einsum("nts,nsd->ntd", dS, K), np.einsum("nts,ntd->nsd", dS, Q), np.einsum("nts,nte->nse", A, dout)


INDICES = np.array([[0, 3, 3, 1], [3, 0, 2, 3]])  # repeated indices: their gradients add up


def embedding(W):
    return W[INDICES]


def embedding_b(dout, c):
    dW = np.zeros_like(c[0])
    np.add.at(dW, INDICES, dout)
    return dW


MASK = (np.random.default_rng(7).random((5, 6)) < 0.6) / 0.6  # inverted dropout, keep 0.6: a fixed mask


def dropout(x):
    return x * MASK


def dropout_b(dout, c):
    return dout * MASK


SCALES = 10.0 ** np.linspace(-8, 8, 12)


def scaled_square(x):
    """x**2 * SCALES: gradients spanning 1e-8 to 1e8."""
    return x**2 * SCALES


def scaled_square_b(dout, c):
    return 2 * c[0] * SCALES * dout


def dense32(x, W, b):
    return (x.astype(np.float32) @ W.astype(np.float32) + b.astype(np.float32))


def dense32_b(dout, c):
    x, W, b = (a.astype(np.float32) for a in c)
    d = dout.astype(np.float32)
    return d @ W.T, x.T @ d, d.sum(axis=0)


def tanh32(x):
    return np.tanh(x.astype(np.float32))


def tanh32_b(dout, c):
    t = np.tanh(c[0].astype(np.float32))
    return (dout * (1 - t**2)).astype(np.float32)


# --- input makers -----------------------------------------------------------------------------------

def _n(rng, *shape, s=1.0):
    return s * rng.standard_normal(shape)


def _probs(rng, N, C):
    """Softmax rows with some entries near 1e-3 (the domain edge of log)."""
    z = rng.standard_normal((N, C)) * 2
    z[:, 0] -= 5
    return _softmax(z)


def _noncontiguous(rng):
    big = rng.standard_normal((4, 10))
    W = rng.standard_normal((10, 3)).T.copy().T  # Fortran order
    b = rng.standard_normal(3)
    b.setflags(write=False)  # read-only
    return {"x": big[:, ::2], "W": W[::2], "b": b}


def _rnn(rng, N, T, D, H, gates):
    return {"x": _n(rng, N, T, D), "h0": _n(rng, N, H), "Wx": _n(rng, D, gates * H, s=0.5),
            "Wh": _n(rng, H, gates * H, s=0.5), "b": _n(rng, gates * H)}


def _maxpool_ties(rng):
    x = rng.integers(0, 3, size=(2, 2, 4, 4)).astype(float)
    return {"x": x}


def reciprocal(x):
    return 1 / x


def reciprocal_b(dout, c):
    return -dout / c[0] ** 2


def log1m(p):
    return anp.log(1 - p)


def log1m_b(dout, c):
    return -dout / (1 - c[0])


def exp(x):
    return anp.exp(x)


def exp_b(dout, c):
    return dout * np.exp(c[0])


def _signed_magnitudes(rng):
    return {"x": rng.choice([-1.0, 1.0], size=(3, 4)) * 10.0 ** rng.uniform(-3, 3, size=(3, 4))}


CORRECT = {
    "dense": Case(dense, dense_b, lambda r: {"x": _n(r, 4, 5), "W": _n(r, 5, 3), "b": _n(r, 3)}),
    "dense, non-contiguous and read-only": Case(dense, dense_b, _noncontiguous),
    "tanh(x W)": Case(tanh_dense, tanh_dense_b, lambda r: {"x": _n(r, 4, 5), "W": _n(r, 5, 3)}),
    "relu": Case(relu, relu_b, lambda r: {"x": _n(r, 4, 6)}),
    "sigmoid": Case(sigmoid, sigmoid_b, lambda r: {"x": _n(r, 4, 6, s=3)}),
    "conv2d, stride 2, padding 1": Case(conv2d, conv2d_b, lambda r: {"x": _n(r, 2, 3, 5, 5), "w": _n(r, 4, 3, 3, 3), "b": _n(r, 4)}),
    "max-pool without ties": Case(maxpool, maxpool_b, lambda r: {"x": _n(r, 2, 2, 4, 4)}),
    "max-pool with ties": Case(maxpool, maxpool_b, _maxpool_ties, reference=False),
    "batchnorm": Case(batchnorm, batchnorm_b, lambda r: {"x": _n(r, 6, 4, s=2) + 3, "gamma": _n(r, 4), "beta": _n(r, 4)}),
    "layernorm": Case(layernorm, layernorm_b, lambda r: {"x": _n(r, 3, 7, s=2) - 1, "gamma": _n(r, 7), "beta": _n(r, 7)}),
    "logsumexp": Case(logsumexp, logsumexp_b, lambda r: {"x": _n(r, 4, 5, s=2)}),
    "softmax at logits 1000 + N(0, 1)": Case(softmax, softmax_b, lambda r: {"x": 1000 + _n(r, 3, 5)}),
    "cross-entropy on logits": Case(ce_logits, ce_logits_b, lambda r: {"x": _n(r, 6, 3, s=2)}),
    "cross-entropy on probabilities": Case(ce_probs, ce_probs_b, lambda r: {"p": _probs(r, 6, 3)}),
    "-log p, p down to 1e-3": Case(neglog, neglog_b, lambda r: {"p": 10.0 ** r.uniform(-3, 0, size=(4, 5))}),
    "binary cross-entropy on sigmoid outputs": Case(bce, bce_b, lambda r: {"p": sigmoid(_n(r, 8, s=4))}),
    "binary cross-entropy, p within 1e-7 of 0 and 1": Case(bce, bce_b, lambda r: {"p": np.clip(sigmoid(_n(r, 8, s=12)), 1e-7, 1 - 1e-7)}),
    "-log p, p down to 1e-8": Case(neglog, neglog_b, lambda r: {"p": 10.0 ** r.uniform(-8, 0, size=(4, 5))}),
    "log(1 - p), p up to 1 - 1e-6": Case(log1m, log1m_b, lambda r: {"p": 1 - 10.0 ** r.uniform(-6, -1, size=(3, 4))}),
    "1/x, |x| from 1e-3 to 1e3": Case(reciprocal, reciprocal_b, _signed_magnitudes),
    "exp at 30": Case(exp, exp_b, lambda r: {"x": 30 + _n(r, 3, 4)}),
    "LSTM step": Case(lstm_step, lstm_step_b, lambda r: {"x": _n(r, 3, 4), "h": _n(r, 3, 5), "c": _n(r, 3, 5),
                                                         "Wx": _n(r, 4, 20, s=0.5), "Wh": _n(r, 5, 20, s=0.5), "b": _n(r, 20)}),
    "LSTM sequence": Case(lstm_seq, lstm_seq_b, lambda r: _rnn(r, 2, 4, 3, 4, 4), {"time_axis": 1}),
    "GRU step": Case(gru_step, gru_step_b, lambda r: {"x": _n(r, 3, 4), "h": _n(r, 3, 5), "Wx": _n(r, 4, 15, s=0.5),
                                                      "Wh": _n(r, 5, 15, s=0.5), "b": _n(r, 15)}),
    "GRU sequence": Case(gru_seq, gru_seq_b, lambda r: _rnn(r, 2, 4, 3, 4, 3), {"time_axis": 1}),
    "attention": Case(attention, attention_b, lambda r: {"Q": _n(r, 2, 3, 4), "K": _n(r, 2, 3, 4), "V": _n(r, 2, 3, 2)}),
    "embedding, repeated indices": Case(embedding, embedding_b, lambda r: {"W": _n(r, 5, 3)}),
    "dropout, fixed mask": Case(dropout, dropout_b, lambda r: {"x": _n(r, 5, 6)}),
    "gradients 1e-8 to 1e8": Case(scaled_square, scaled_square_b, lambda r: {"x": _n(r, 3, 12)}),
    "dense in float32": Case(dense32, dense32_b, lambda r: {"x": _n(r, 8, 16), "W": _n(r, 16, 4), "b": _n(r, 4)}, reference=False),
    "tanh in float32": Case(tanh32, tanh32_b, lambda r: {"x": _n(r, 5, 7)}, reference=False),
}
