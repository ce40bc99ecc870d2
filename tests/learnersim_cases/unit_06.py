"""Unit 06 (the LSTM): the mistakes each exercise's tests are written against, and correct variants.

Every mistake must fail the visible part of its own exercise's test with the words in ``says``,
and no other test except by naming its exercise as the one to fix first; every correct variant
must pass every test, hidden parts included.
"""
from tests.learnersim import Case

UNIT = "06_lstm"

MISTAKES = {
    "lstm_step_forward": [
        "gates read in PyTorch's order i, f, g, o instead of i, f, o, g",
        "input and forget gates swapped",
        "sigmoid where tanh belongs (the candidate g)",
        "tanh where sigmoid belongs (the output gate o)",
        "next_h = o * next_c: the cell state instead of its tanh",
        "the forget gate left out: next_c = prev_c + i * g",
        "the bias left out",
        "the four blocks taken as every 4th column instead of H consecutive columns",
        "next_h from the old cell: o * tanh(prev_c)",
        "prev_h where prev_c belongs in the cell update",
        "prev_c updated in place",
        "next_h and next_c returned in the wrong order",
    ],
    "lstm_step_backward": [
        "dprev_c = dc: the forget gate left out of the cell path",
        "dc = dnext_c only: the gradient through next_h = o * tanh(c) left out",
        "tanh' taken as 1 - tanh instead of 1 - tanh**2",
        "do = dnext_h: the factor tanh(next_c) left out",
        "the blocks of da in another order than the forward pass's",
        "sigmoid' taken as 1 - s**2 (tanh's derivative) for the input gate",
        "dWh with its factors swapped (transposed)",
        "db summed over the wrong axis",
        "df = dc * prev_h instead of dc * prev_c",
        "dg without tanh' (1 - g**2)",
        "dprev_c = dnext_c * f: only the direct part of the cell's gradient",
        "dprev_h computed with Wx",
        "dnext_c updated in place (dc = dnext_c; dc += ...)",
    ],
    "lstm_forward": [
        "the cell state not carried: c reset to zeros at every step",
        "the initial cell state taken as h0",
        "the first step starts from zeros instead of h0",
        "the cell states stored in h instead of the hidden states",
        "h[:, t] stores the state before step t (off by one)",
        "h not carried: every step starts from h0",
        "the last step left out",
        "h and c swapped in the call to lstm_step_forward",
        "h returned with time as the first axis, (T, N, H)",
        "x modified in place",
    ],
    "lstm_backward": [
        "dc not carried back through time: dprev_c reset to zeros at every step",
        "dh not carried back through time: dh[:, t] alone",
        "weight gradients from the last step only (overwritten, not accumulated)",
        "dh0 returned as zeros",
        "dh0 = dh[:, 0]",
        "dh0 = the dprev_c of step 0",
        "the loop runs forwards in time",
        "the carried dprev_h passed as dnext_c and dprev_c as dnext_h",
        "the cell's gradient started at dh[:, -1] instead of zeros",
        "the direct gradient dh[:, t] added at the last step only",
        "dh updated in place (dh[:, t] += dprev_h)",
    ],
}

F = "lstm_step_forward"
FB = "lstm_step_backward"
S = "lstm_forward"
B = "lstm_backward"
TF, TFB, TS, TB = (f"test_{n}" for n in (F, FB, S, B))
GATES = "i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])\n    g = np.tanh(a[:, 3 * H:])"

CASES = [
    # --- lstm_step_forward: mistakes
    Case(F, "PyTorch's gate order i, f, g, o", replace=(GATES,
         "i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])\n    g = np.tanh(a[:, 2 * H:3 * H])"),
         fails=TF, says=r"next_c at step 0 .*order i, f, o, g", also_fails=(TFB, TS, TB)),
    Case(F, "input and forget gates swapped", replace=("i, f, o = sigmoid", "f, i, o = sigmoid"),
         fails=TF, says=r"next_c at step [01] .*order i, f, o, g", also_fails=(TFB, TS, TB)),
    Case(F, "sigmoid on the candidate g", replace=("g = np.tanh(a[:, 3 * H:])", "g = sigmoid(a[:, 3 * H:])"),
         fails=TF, says=r"next_c.*tanh for g", also_fails=(TFB, TS, TB)),
    Case(F, "tanh on the output gate", replace=("sigmoid(a[:, 2 * H:3 * H])", "np.tanh(a[:, 2 * H:3 * H])"),
         fails=TF, says=r"next_h at step 0 .*output gate", also_fails=(TFB, TS, TB)),
    Case(F, "next_h = o * next_c", replace=("next_h = o * tanh_c", "next_h = o * next_c"),
         fails=TF, says=r"next_h at step 0 .*tanh of the NEW cell", also_fails=(TFB, TS, TB)),
    Case(F, "no forget gate", replace=("next_c = f * prev_c + i * g", "next_c = prev_c + i * g"),
         fails=TF, says=r"next_c at step 1 .*forget gate", also_fails=(TFB, TS, TB)),
    Case(F, "no bias", replace=("a = x @ Wx + prev_h @ Wh + b", "a = x @ Wx + prev_h @ Wh"),
         fails=TF, says=r"next_c at step [01] .*x @ Wx \+ prev_h @ Wh \+ b", also_fails=(TFB, TS, TB)),
    Case(F, "blocks as every 4th column", replace=(GATES,
         "i, f, o = sigmoid(a[:, 0::4]), sigmoid(a[:, 1::4]), sigmoid(a[:, 2::4])\n    g = np.tanh(a[:, 3::4])"),
         fails=TF, says=r"next_c with N=2.*H consecutive columns", also_fails=(TFB, TS, TB)),
    Case(F, "next_h from the old cell", replace=("tanh_c = np.tanh(next_c)", "tanh_c = np.tanh(prev_c)"),
         fails=TF, says=r"next_h at step 0 .*NEW cell state", also_fails=(TFB, TS, TB)),
    Case(F, "prev_h in the cell update", replace=("next_c = f * prev_c + i * g", "next_c = f * prev_h + i * g"),
         fails=TF, says=r"next_c at step 1 .*forget gate", also_fails=(TFB, TS, TB)),
    Case(F, "prev_c updated in place", replace=("next_c = f * prev_c + i * g", "prev_c *= f\n    prev_c += i * g\n    next_c = prev_c"),
         fails=TF, says=r"changed its input in place: prev_c", also_fails=(TFB, TS, TB)),
    Case(F, "next_h and next_c swapped", replace=("return next_h, next_c, cache", "return next_c, next_h, cache"),
         fails=TF, says=r"next_c at step 0", also_fails=(TFB, TS, TB)),
    # --- lstm_step_forward: correct variants
    Case(F, "np.split into four blocks", replace=(GATES,
         "a_i, a_f, a_o, a_g = np.split(a, 4, axis=1)\n    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)\n    g = np.tanh(a_g)")),
    Case(F, "sigmoid written as 1 / (1 + exp(-z))", replace=(GATES,
         "s = 1 / (1 + np.exp(-a[:, :3 * H]))\n    i, f, o = s[:, :H], s[:, H:2 * H], s[:, 2 * H:]\n    g = np.tanh(a[:, 3 * H:])")),
    Case(F, "one product per gate, H from b", replace=(
         ("H = prev_h.shape[1]\n    a = x @ Wx + prev_h @ Wh + b", "H = b.shape[0] // 4\n    blocks = [x @ Wx[:, k * H:(k + 1) * H] + prev_h @ Wh[:, k * H:(k + 1) * H] + b[k * H:(k + 1) * H] for k in range(4)]"),
         (GATES, "i, f, o = sigmoid(blocks[0]), sigmoid(blocks[1]), sigmoid(blocks[2])\n    g = np.tanh(blocks[3])"))),
    Case(F, "a loop over the batch rows", replace=("a = x @ Wx + prev_h @ Wh + b",
         "a = np.stack([x[n] @ Wx + prev_h[n] @ Wh + b for n in range(x.shape[0])])")),
    Case(F, "the candidate through 2 * sigmoid(2z) - 1", replace=("g = np.tanh(a[:, 3 * H:])", "g = 2 * sigmoid(2 * a[:, 3 * H:]) - 1")),
    Case(F, "float32 arithmetic", replace=("a = x @ Wx + prev_h @ Wh + b",
         "a = x.astype(np.float32) @ Wx.astype(np.float32) + prev_h.astype(np.float32) @ Wh.astype(np.float32) + b.astype(np.float32)\n"
         "    prev_c = prev_c.astype(np.float32)")),

    # --- lstm_step_backward: mistakes
    Case(FB, "dprev_c without the forget gate", replace=("dc * f, x.T @ da", "dc, x.T @ da"),
         fails=TFB, says=r"prev_c.*dprev_c = dc \* f", also_fails=(TB,)),
    Case(FB, "dc without the dnext_h path", replace=("dc = dnext_c + dnext_h * o * (1 - tanh_c**2)", "dc = dnext_c"),
         fails=TFB, says=r"gradient for '\w+'", also_fails=(TB,)),
    Case(FB, "tanh' as 1 - tanh", replace=("(1 - tanh_c**2)", "(1 - tanh_c)"),
         fails=TFB, says=r"gradient for '\w+'", also_fails=(TB,)),
    Case(FB, "do without tanh(next_c)", replace=("do = dnext_h * tanh_c", "do = dnext_h"),
         fails=TFB, says=r"gradient for '\w+'", also_fails=(TB,)),
    Case(FB, "da blocks in the order i, f, g, o", replace=("do * o * (1 - o), dc * i * (1 - g**2)]", "dc * i * (1 - g**2), do * o * (1 - o)]"),
         fails=TFB, says=r"gradient for '\w+'.*order", also_fails=(TB,)),
    Case(FB, "tanh' for the input gate", replace=("dc * g * i * (1 - i)", "dc * g * (1 - i**2)"),
         fails=TFB, says=r"gradient for '\w+'", also_fails=(TB,)),
    Case(FB, "dWh transposed", replace=("prev_h.T @ da", "(da.T @ prev_h).T[:, ::-1]"),
         fails=TFB, says=r"gradient for 'Wh'", also_fails=(TB,)),
    Case(FB, "db over the wrong axis", replace=("da.sum(axis=0)", "da.sum(axis=1)"),
         fails=TFB, says=r"'b'|db", also_fails=(TB,)),
    Case(FB, "df from prev_h", replace=("dc * prev_c * f * (1 - f)", "dc * prev_h * f * (1 - f)"),
         fails=TFB, says=r"gradient for '\w+'", also_fails=(TB,)),
    Case(FB, "dg without tanh'", replace=("dc * i * (1 - g**2)]", "dc * i]"),
         fails=TFB, says=r"gradient for '\w+'", also_fails=(TB,)),
    Case(FB, "dprev_c from dnext_c only", replace=("dc * f, x.T @ da", "dnext_c * f, x.T @ da"),
         fails=TFB, says=r"prev_c.*dprev_c = dc \* f", also_fails=(TB,)),
    Case(FB, "dnext_c updated in place", replace=("dc = dnext_c + dnext_h * o * (1 - tanh_c**2)",
         "dc = dnext_c\n    dc += dnext_h * o * (1 - tanh_c**2)"), fails=TFB, says=r"in place", also_fails=(TB,)),
    Case(FB, "dprev_h with Wx", replace=("da @ Wh.T, dc * f", "da @ Wx.T[:, :Wh.shape[0]], dc * f"),
         fails=TFB, says=r"gradient for 'prev_h'|prev_h", also_fails=(TB,)),
    # --- lstm_step_backward: correct variants
    Case(FB, "da filled block by block", replace=(
         "da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), do * o * (1 - o), dc * i * (1 - g**2)], axis=1)",
         "H = i.shape[1]\n    da = np.empty((i.shape[0], 4 * H))\n    da[:, :H] = dc * g * i * (1 - i)\n    da[:, H:2 * H] = dc * prev_c * f * (1 - f)\n"
         "    da[:, 2 * H:3 * H] = do * o * (1 - o)\n    da[:, 3 * H:] = dc * i * (1 - g**2)")),
    Case(FB, "einsum for the weight gradients", replace=("x.T @ da, prev_h.T @ da", "np.einsum('nd,nk->dk', x, da), np.einsum('nh,nk->hk', prev_h, da)")),
    Case(FB, "dprev_c expanded", replace=("dc * f, x.T @ da", "f * dnext_c + f * dnext_h * o * (1 - tanh_c**2), x.T @ da")),
    Case(FB, "weight gradients as sums over the batch", replace=("x.T @ da, prev_h.T @ da",
         "sum(np.outer(x[n], da[n]) for n in range(x.shape[0])), sum(np.outer(prev_h[n], da[n]) for n in range(x.shape[0]))")),
    Case(FB, "one product with the stacked weights", replace=(
         "return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)",
         "D = x.shape[1]\n    dxh = da @ np.vstack([Wx, Wh]).T\n    dW = np.hstack([x, prev_h]).T @ da\n"
         "    return dxh[:, :D], dxh[:, D:], dc * f, dW[:D], dW[D:], da.sum(axis=0)")),
    Case(FB, "float32 gradients", replace=("return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)",
         "return tuple(g.astype(np.float32) for g in (da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)))")),

    # --- lstm_forward: mistakes
    Case(S, "c reset every step", replace=("h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)",
         "h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, np.zeros_like(h0), Wx, Wh, b)"),
         fails=TS, says=r"h\[:, 1\].*carry both", also_fails=(TB,)),
    Case(S, "c0 = h0", replace=("h_t, c_t = h0, np.zeros_like(h0)", "h_t, c_t = h0, h0"),
         fails=TS, says=r"h\[:, 0\].*zero cell state", also_fails=(TB,)),
    Case(S, "starts from zeros", replace=("h_t, c_t = h0, np.zeros_like(h0)", "h_t, c_t = np.zeros_like(h0), np.zeros_like(h0)"),
         fails=TS, says=r"h\[:, 0\].*starts from h0", also_fails=(TB,)),
    Case(S, "stores c in h", replace=("h[:, t] = h_t", "h[:, t] = c_t"),
         fails=TS, says=r"h\[:, 0\]", also_fails=(TB,)),
    Case(S, "stores the state before the step", replace=(
         "h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)\n        h[:, t] = h_t",
         "h[:, t] = h_t\n        h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)"),
         fails=TS, says=r"h\[:, 0\]", also_fails=(TB,)),
    Case(S, "h not carried", replace=("lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)", "lstm_step_forward(x[:, t], h0, c_t, Wx, Wh, b)"),
         fails=TS, says=r"h\[:, 1\].*carry both", also_fails=(TB,)),
    Case(S, "the last step left out", replace=(("h = np.empty(", "h = np.zeros("), ("for t in range(T):", "for t in range(T - 1):")),
         fails=TS, says=r"h\[:, 2\]", also_fails=(TB,)),
    Case(S, "h and c swapped in the call", replace=("lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)", "lstm_step_forward(x[:, t], c_t, h_t, Wx, Wh, b)"),
         fails=TS, says=r"h\[:, 1\].*carry both", also_fails=(TB,)),
    Case(S, "time as the first axis", replace=("return h, caches", "return h.transpose(1, 0, 2), caches"),
         fails=TS, says=r"shape", also_fails=(TB,)),
    Case(S, "x modified in place", replace=("for t in range(T):", "x *= 1.0\n    x[:, 0] = x[:, 0] + 0.0\n    x[:, 0] *= 1.5\n    for t in range(T):"),
         fails=TS, says=r"h\[:, 0\]|changed its input in place", also_fails=(TB,)),
    # --- lstm_forward: correct variants
    Case(S, "a list of states stacked at the end", replace=(
         ("h = np.empty((N, T, h0.shape[1]))", "hs = []"), ("h[:, t] = h_t", "hs.append(h_t)"), ("return h, caches", "return np.stack(hs, axis=1), caches"))),
    Case(S, "a while loop", replace=("for t in range(T):", "t = -1\n    while t + 1 < T:\n        t += 1")),
    Case(S, "the step written out inline", replace=(
         "h_t, c_t, step_cache = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)",
         "H = h0.shape[1]\n        a = x[:, t] @ Wx + h_t @ Wh + b\n        i, f, o = (1 / (1 + np.exp(-a[:, k * H:(k + 1) * H])) for k in range(3))\n"
         "        g = np.tanh(a[:, 3 * H:])\n        c_prev, h_prev = c_t, h_t\n        c_t = f * c_prev + i * g\n        h_t = o * np.tanh(c_t)\n"
         "        step_cache = (x[:, t], h_prev, c_prev, Wx, Wh, i, f, o, g, np.tanh(c_t))")),
    Case(S, "zeros for h, a tuple of caches", replace=(("h = np.empty(", "h = np.zeros("), ("return h, caches", "return h, tuple(caches)"))),
    Case(S, "float32 states", replace=("h = np.empty((N, T, h0.shape[1]))", "h = np.empty((N, T, h0.shape[1]), dtype=np.float32)")),

    # --- lstm_backward: mistakes
    Case(B, "dc not carried", replace=("lstm_step_backward(dh[:, t] + dprev_h, dprev_c, cache[t])", "lstm_step_backward(dh[:, t] + dprev_h, np.zeros((N, H)), cache[t])"),
         fails=TB, says=r"time step.*carry BOTH"),
    Case(B, "dh not carried", replace=("lstm_step_backward(dh[:, t] + dprev_h, dprev_c, cache[t])", "lstm_step_backward(dh[:, t], dprev_c, cache[t])"),
         fails=TB, says=r"time step.*carry BOTH"),
    Case(B, "weights from the last step only", replace=("dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t", "dWx, dWh, db = dWx_t, dWh_t, db_t"),
         fails=TB, says=r"sums over all time steps"),
    Case(B, "dh0 as zeros", replace=("return dx, dprev_h, dWx", "return dx, np.zeros((N, H)), dWx"),
         fails=TB, says=r"'h0'.*dh0 is the dprev_h"),
    Case(B, "dh0 = dh[:, 0]", replace=("return dx, dprev_h, dWx", "return dx, dh[:, 0], dWx"),
         fails=TB, says=r"'h0'.*dh0 is the dprev_h"),
    Case(B, "dh0 = dprev_c", replace=("return dx, dprev_h, dWx", "return dx, dprev_c, dWx"),
         fails=TB, says=r"'h0'.*dh0 is the dprev_h"),
    Case(B, "the loop forwards in time", replace=("for t in reversed(range(T)):", "for t in range(T):"),
         fails=TB, says=r"gradient for '\w+'"),
    Case(B, "the two carries swapped", replace=("lstm_step_backward(dh[:, t] + dprev_h, dprev_c, cache[t])", "lstm_step_backward(dh[:, t] + dprev_c, dprev_h, cache[t])"),
         fails=TB, says=r"gradient for '\w+'"),
    Case(B, "the cell's gradient started at dh[:, -1]", replace=("dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))", "dprev_h, dprev_c = np.zeros((N, H)), dh[:, -1].copy()"),
         fails=TB, says=r"gradient for '\w+'"),
    Case(B, "dh[:, t] at the last step only", replace=("lstm_step_backward(dh[:, t] + dprev_h, dprev_c, cache[t])",
         "lstm_step_backward((dh[:, t] if t == T - 1 else 0) + dprev_h, dprev_c, cache[t])"),
         fails=TB, says=r"gradient for '\w+'"),
    Case(B, "dh updated in place", replace=(("lstm_step_backward(dh[:, t] + dprev_h,", "lstm_step_backward(dh[:, t],"),
         ("for t in reversed(range(T)):", "for t in reversed(range(T)):\n        dh[:, t] += dprev_h")),
         fails=TB, says=r"in place"),
    # --- lstm_backward: correct variants
    Case(B, "zeros and += for the sums", replace=(
         ("dWx, dWh, db = 0.0, 0.0, 0.0", "dWx, dWh, db = None, None, None"),
         ("dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t",
          "if dWx is None:\n            dWx, dWh, db = np.zeros_like(dWx_t), np.zeros_like(dWh_t), np.zeros_like(db_t)\n"
          "        dWx += dWx_t\n        dWh += dWh_t\n        db += db_t"))),
    Case(B, "dx as a list, reversed and stacked", replace=(
         ("dx = np.empty((N, T, D))", "dxs = []"),
         ("dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = ", "dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = "),
         ("dWx, dWh, db = dWx + dWx_t", "dxs.append(dx_t)\n        dWx, dWh, db = dWx + dWx_t"),
         ("return dx, dprev_h", "return np.stack(dxs[::-1], axis=1), dprev_h"))),
    Case(B, "per-step gradients summed at the end", replace=(
         ("dWx, dWh, db = 0.0, 0.0, 0.0", "parts = []"),
         ("dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t", "parts.append((dWx_t, dWh_t, db_t))"),
         ("return dx, dprev_h, dWx, dWh, db", "dWx, dWh, db = (sum(p[k] for p in parts) for k in range(3))\n    return dx, dprev_h, dWx, dWh, db"))),
    Case(B, "D from the cache's length and dx's shape", replace=(
         ("D = cache[0][0].shape[1]\n    dx = np.empty((N, T, D))", "dx = None"),
         ("dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = ", "dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = "),
         ("dWx, dWh, db = dWx + dWx_t", "dx = np.zeros((N, T, dx_t.shape[1])) if dx is None else dx\n        dx[:, t] = dx_t\n        dWx, dWh, db = dWx + dWx_t"))),
    Case(B, "float32 dx", replace=("dx = np.empty((N, T, D))", "dx = np.empty((N, T, D), dtype=np.float32)")),
]
