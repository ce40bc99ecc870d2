"""Correct layers, and a corpus of deliberately wrong ones, each with the mistake it makes.

Every layer follows the course's contract: ``forward(*inputs) -> (out, cache)`` and
``backward(dout, cache) -> gradients in the inputs' order``.
"""
from __future__ import annotations

import numpy as np


# --- correct layers -------------------------------------------------------------------------

def dense_forward(x, W, b):
    return x @ W + b, (x, W, b)


def dense_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, x):
    return dout * (x > 0)


def relu_backward_ge(dout, x):
    """The other convention at 0: the derivative is 1 there. Also correct."""
    return dout * (x >= 0)


def max_forward(x):
    """The maximum of each row: x (N, D) -> (N,)."""
    return x.max(axis=1), x


def max_backward(dout, x):
    """All of the gradient to the first maximum of each row (ties: the first wins)."""
    dx = np.zeros_like(x)
    dx[np.arange(x.shape[0]), x.argmax(axis=1)] = dout
    return dx


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, out):
    return dout * (1 - out**2)


def mse_forward(y, t):
    """Mean over the batch of 1/2 ||y - t||^2: y, t (N, D) -> scalar."""
    return np.array(0.5 * np.sum((y - t) ** 2) / y.shape[0]), (y, t)


def mse_backward(dout, cache):
    y, t = cache
    n = y.shape[0]
    return dout * (y - t) / n, -dout * (y - t) / n


def dense32_forward(x, W, b):
    """Computes in float32, as a learner's float32 network would."""
    x32, W32, b32 = (a.astype(np.float32) for a in (x, W, b))
    return x32 @ W32 + b32, (x32, W32, b32)


def dense32_backward(dout, cache):
    x, W, b = cache
    d = dout.astype(np.float32)
    return d @ W.T, x.T @ d, d.sum(axis=0)


def hidden32_forward(x, W):
    """Returns float64 but computes in float32: the precision loss is invisible in the dtype."""
    return (x.astype(np.float32) @ W.astype(np.float32)).astype(np.float64), (x, W)


def hidden32_backward(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout


def dense_relu_forward(x, W, b):
    z = x @ W + b
    return np.maximum(z, 0), (x, W, z)


def dense_relu_backward(dout, cache):
    x, W, z = cache
    dz = dout * (z > 0)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)


# --- RNN (used for time-axis diagnoses) -----------------------------------------------------

def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h, prev, steps = np.empty((N, T, Wh.shape[0])), h0, []
    for t in range(T):
        h[:, t] = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        steps.append((x[:, t], prev, h[:, t]))
        prev = h[:, t]
    return h, (steps, Wx, Wh)


def _rnn_backward(dh, cache, *, carry=True, weights_from_last_only=False, off_by_one=False, first=0):
    steps, Wx, Wh = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in reversed(range(first, T)):
        x_t, h_prev, h_t = steps[t]
        dz = (dh[:, t] + (dprev if carry else 0)) * (1 - h_t**2)
        dx[:, t] = dz @ Wx.T
        if not weights_from_last_only or t == T - 1:
            dWx += x_t.T @ dz
            dWh += (h_t if off_by_one else h_prev).T @ dz
            db += dz.sum(axis=0)
        dprev = dz @ Wh.T
    return dx, dprev, dWx, dWh, db


def rnn_backward(dh, cache):
    return _rnn_backward(dh, cache)


def rnn_backward_no_carry(dh, cache):
    return _rnn_backward(dh, cache, carry=False)


def rnn_backward_last_step_weights(dh, cache):
    return _rnn_backward(dh, cache, weights_from_last_only=True)


def rnn_backward_off_by_one(dh, cache):
    """dWh takes h_t where h_{t-1} belongs."""
    return _rnn_backward(dh, cache, off_by_one=True)


def rnn_backward_skips_t0(dh, cache):
    """The loop runs t = T-1 .. 1: step 0 is never processed."""
    return _rnn_backward(dh, cache, first=1)


# --- wrong dense layers: (backward, expected diagnosis) -------------------------------------

def _dense_with(fix):
    def backward(dout, cache):
        return fix(*dense_backward(dout, cache), dout=dout, cache=cache)

    return backward


WRONG_DENSE = {
    "sign flipped": (_dense_with(lambda dx, dW, db, **_: (dx, -dW, db)), "sign", "W"),
    "sum vs mean": (_dense_with(lambda dx, dW, db, dout, **_: (dx, dW * dout.shape[0], db)), "scale", "W"),
    "scaled by 3": (_dense_with(lambda dx, dW, db, **_: (3 * dx, dW, db)), "scale", "x"),
    "values transposed": (_dense_with(lambda dx, dW, db, **_: (dx, dW.T.copy(), db)), "transpose", "W"),
    "all zeros": (_dense_with(lambda dx, dW, db, **_: (dx, dW, np.zeros_like(db))), "zeros", "b"),
    "NaN": (_dense_with(lambda dx, dW, db, **_: (dx, dW, db * np.nan)), "nonfinite", "b"),
    "None returned": (lambda dout, cache: None, "none", None),
    "None for one input": (_dense_with(lambda dx, dW, db, **_: (dx, None, db)), "none", "W"),
    "too few gradients": (_dense_with(lambda dx, dW, db, **_: (dx, dW)), "count", None),
    "list, not array": (_dense_with(lambda dx, dW, db, **_: (dx, dW, db.tolist())), "type", "b"),
    "wrong shape (transpose)": (_dense_with(lambda dx, dW, db, **_: (dx.T, dW, db)), "shape", "x"),
    "bias not summed": (_dense_with(lambda dx, dW, db, dout, **_: (dx, dW, dout)), "shape", "b"),
    "single wrong entry": (_dense_with(lambda dx, dW, db, **_: (dx, _poke(dW, (1, 2), 0.5), db)), "mismatch", "W"),
    "updates weights in backward": (_dense_with(lambda dx, dW, db, cache, **_: (dx, dW, _update(cache[1], dW, db))), "inplace", "W"),
    "modifies dout": (_dense_with(lambda dx, dW, db, dout, **_: (dx, dW, _scribble(dout, db))), "inplace", None),
    "not implemented": (lambda dout, cache: (_ for _ in ()).throw(NotImplementedError()), "not_implemented", None),
}


def _poke(a, index, delta):
    a = a.copy()
    a[index] += delta
    return a


def _update(W, dW, db):
    W -= 0.1 * dW  # the classic: the weights move before every delta was computed
    return db


def _scribble(dout, db):
    dout[:] = 0
    return db


def relu_forward_inplace(x):
    np.maximum(x, 0, out=x)
    return x, x


def rnn_backward_zero_dh0(dh, cache):
    dx, _, dWx, dWh, db = _rnn_backward(dh, cache)
    return dx, np.zeros((dh.shape[0], dh.shape[2])), dWx, dWh, db
