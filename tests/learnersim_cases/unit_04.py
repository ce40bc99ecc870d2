"""Unit 04 (backpropagation): the common mistakes of each exercise, and the learners' versions that stand for them.

Each mistake must fail the visible part of its own exercise's test, with the words in ``says``,
and no other test (a later exercise's test may fail only by saying "fix <this exercise> first");
each correct variant must pass every test, hidden ones included.
"""
import dataclasses

from tests.learnersim import Case

UNIT = "04_backprop"

MISTAKES = {
    "dense_backward": [
        "dW = dout.T @ x: the transpose of the right gradient",
        "dx = dout @ W: W not transposed (a shape error unless D == M)",
        "db = dout.sum(axis=1): summed over the neurons instead of the samples",
        "db = dout.mean(axis=0) or dW divided by N: a mean where the sum is asked (the batch size factor)",
        "db = dout: not summed over the samples at all",
        "the gradients returned in another order, (dW, dx, db)",
        "a sign flipped",
        "dx from the input instead of the upstream gradient",
    ],
    "init_mlp": [
        "variance 2 / fan_out instead of 2 / fan_in",
        "standard deviation 2 / fan_in (the variance squared), or Xavier's 1 / fan_in",
        "random biases instead of zeros",
        "zero weights (every hidden unit stays identical)",
        "weights of shape (fan_out, fan_in)",
        "a list of (W, b) pairs, or keys such as 'W_1'",
        "hard-coded for two layers, or one layer missing (off by one)",
        "numpy's global generator unseeded (different every call), or the seed ignored",
        "float32 weights where float64 is asked",
    ],
    "mlp_loss": [
        "the sum over the batch instead of the mean",
        "hard-coded for two layers (W1, W2 only)",
        "ReLU applied to the output layer too",
        "np.log(softmax(z)): -inf (an infinite loss) once a wrong class leads by ~745",
        "no ReLU in the hidden layers",
        "the mean of -log p over every class, not just the true one",
        "p[:, y] instead of p[np.arange(N), y]: an N x N block",
        "L = len(params): one layer too many (KeyError)",
        "the bias left out",
    ],
    "mlp_loss_and_grads": [
        "the output delta not divided by N (the gradient of the sum, not the mean)",
        "the sign of the output delta flipped (t - p)",
        "the ReLU derivative left out on the way back",
        "the ReLU mask of the wrong layer",
        "hard-coded for two layers",
        "the loss a sum instead of a mean",
        "params updated or modified inside the function",
        "dW1 = dz.T @ X: transposed",
        "the gradients returned as a list instead of a dict",
    ],
    "train_step": [
        "params updated in place (params[k] -= lr * g)",
        "a shallow copy updated in place: the arrays are still the caller's",
        "a plus sign: a step up the gradient",
        "(loss, new_params) returned in the wrong order",
        "the loss after the step returned instead of the loss before it",
        "a learning rate hard-coded instead of lr",
        "the biases not updated",
        "the gradient recomputed after each parameter's update (the wrong order of section 2)",
        "the gradient divided by N a second time",
    ],
}

STUB = "is not implemented yet"


def _db(body: str) -> str:
    return "def dense_backward(dout, cache):\n    x, W, b = cache\n" + body


CASES = [
    # ---------------------------------------------------------------- dense_backward: mistakes
    Case("dense_backward", "dW = dout.T @ x", replace=("dW = x.T @ dout", "dW = dout.T @ x"), fails="test_dense_backward",
         says=r"'W'.*transpose"),
    Case("dense_backward", "dx = dout @ W", replace=("dx = dout @ W.T", "dx = dout @ W"), fails="test_dense_backward",
         says=r"dense_backward|matmul|shape"),
    Case("dense_backward", "db summed over neurons", replace=("db = dout.sum(axis=0)", "db = dout.sum(axis=1)"),
         fails="test_dense_backward", says=r"'b'"),
    Case("dense_backward", "db a mean", replace=("db = dout.sum(axis=0)", "db = dout.mean(axis=0)"),
         fails="test_dense_backward", says=r"'b'.*(factor|batch|mean)"),
    Case("dense_backward", "dW divided by N", replace=("dW = x.T @ dout", "dW = x.T @ dout / x.shape[0]"),
         fails="test_dense_backward", says=r"'W'.*(factor|batch|mean)"),
    Case("dense_backward", "db not summed", replace=("db = dout.sum(axis=0)", "db = dout"), fails="test_dense_backward",
         says=r"'b'"),
    Case("dense_backward", "gradients in another order", replace=("return dx, dW, db", "return dW, dx, db"),
         fails="test_dense_backward", says=r"'x'|'W'"),
    Case("dense_backward", "sign of dx flipped", replace=("dx = dout @ W.T", "dx = -dout @ W.T"), fails="test_dense_backward",
         says=r"'x'.*sign"),
    Case("dense_backward", "dx from x", _db("    return x, x.T @ dout, dout.sum(axis=0)"), fails="test_dense_backward",
         says=r"'x'"),
    Case("dense_backward", "stub", _db("    raise NotImplementedError()"), fails="test_dense_backward", says=STUB),
    # ---------------------------------------------------------------- dense_backward: correct variants
    Case("dense_backward", "einsum", _db('    return (np.einsum("nm,dm->nd", dout, W), np.einsum("nd,nm->dm", x, dout),\n'
                                         '            np.einsum("nm->m", dout))')),
    Case("dense_backward", "sum of outer products over the samples", _db(
        "    dW = np.zeros_like(W)\n    for n in range(x.shape[0]):\n        dW += np.outer(x[n], dout[n])\n"
        "    return dout.dot(W.T), dW, np.sum(dout, axis=0)")),
    Case("dense_backward", "cache read by index, np.dot", code="""
        def dense_backward(dout, cache):
            dx = np.dot(dout, cache[1].T)
            dW = np.dot(cache[0].T, dout)
            return dx, dW, dout.sum(0)
        """),
    Case("dense_backward", "tensordot and a tuple built at the end", _db(
        "    grads = [np.tensordot(dout, W, axes=(1, 1)), np.tensordot(x, dout, axes=(0, 0)), dout.sum(axis=0)]\n"
        "    return tuple(grads)")),
    # float32: passes once gradelib stops emitting LowPrecisionWarning on a passing float32 check (issue 11)
    Case("dense_backward", "float32 arithmetic", _db(
        "    d, w, xx = dout.astype(np.float32), W.astype(np.float32), x.astype(np.float32)\n"
        "    return d @ w.T, xx.T @ d, d.sum(axis=0)")),
    # ---------------------------------------------------------------- init_mlp: mistakes
    Case("init_mlp", "variance 2 / fan_out", replace=("np.sqrt(2.0 / fan_in)", "np.sqrt(2.0 / fan_out)"),
         fails="test_init_mlp", says=r"W1 should have standard deviation sqrt\(2 / fan_in\)"),
    Case("init_mlp", "std 2 / fan_in", replace=("np.sqrt(2.0 / fan_in)", "(2.0 / fan_in)"),
         fails="test_init_mlp", says=r"standard deviation"),
    Case("init_mlp", "Xavier 1 / fan_in", replace=("np.sqrt(2.0 / fan_in)", "np.sqrt(1.0 / fan_in)"),
         fails="test_init_mlp", says=r"standard deviation"),
    Case("init_mlp", "random biases", replace=("np.zeros(fan_out)", "rng.standard_normal(fan_out) * 0.01"),
         fails="test_init_mlp", says=r"b1'\] should start at zero"),
    Case("init_mlp", "zero weights", replace=("rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)",
                                              "np.zeros((fan_in, fan_out))"),
         fails="test_init_mlp", says=r"standard deviation"),
    Case("init_mlp", "transposed weights", replace=("rng.standard_normal((fan_in, fan_out))", "rng.standard_normal((fan_out, fan_in))"),
         fails="test_init_mlp", says=r"W1'\] should have shape \(64, 32\).*transpose"),
    Case("init_mlp", "a list of pairs", code="""
        def init_mlp(layer_sizes, seed=0):
            rng = np.random.default_rng(seed)
            return [(rng.standard_normal((m, n)) * np.sqrt(2 / m), np.zeros(n)) for m, n in zip(layer_sizes, layer_sizes[1:])]
        """, fails="test_init_mlp", says=r"should return a dict"),
    Case("init_mlp", "keys W_1", replace=(('params[f"W{l}"]', 'params[f"W_{l}"]'), ('params[f"b{l}"]', 'params[f"b_{l}"]')),
         fails="test_init_mlp", says=r"should return the keys"),
    Case("init_mlp", "hard-coded two layers", code="""
        def init_mlp(layer_sizes, seed=0):
            rng = np.random.default_rng(seed)
            D, H, K = layer_sizes[0], layer_sizes[1], layer_sizes[-1]
            return {"W1": rng.standard_normal((D, H)) * np.sqrt(2 / D), "b1": np.zeros(H),
                    "W2": rng.standard_normal((H, K)) * np.sqrt(2 / H), "b2": np.zeros(K)}
        """, fails="test_init_mlp", says=r"init_mlp\(\[50, 40, 30, 10\]\) should return the keys"),
    Case("init_mlp", "off by one", replace=("range(1, len(layer_sizes))", "range(1, len(layer_sizes) - 1)"),
         fails="test_init_mlp", says=r"should return the keys"),
    Case("init_mlp", "global generator unseeded", replace=("rng.standard_normal((fan_in, fan_out))", "np.random.randn(fan_in, fan_out)"),
         fails="test_init_mlp", says=r"different W1 the second time"),
    Case("init_mlp", "seed ignored", replace=("np.random.default_rng(seed)", "np.random.default_rng(0)"),
         fails="test_init_mlp", says=r"same W1 for seed 0 and seed 1"),
    Case("init_mlp", "float32 weights", replace=(("rng.standard_normal((fan_in, fan_out))", "rng.standard_normal((fan_in, fan_out), dtype=np.float32)"),
                                                 ("np.sqrt(2.0 / fan_in)", "np.sqrt(np.float32(2.0) / fan_in)")),
         fails="test_init_mlp", says=r"should be float64"),
    # ---------------------------------------------------------------- init_mlp: correct variants
    Case("init_mlp", "rng.normal with scale", code="""
        def init_mlp(layer_sizes, seed=0):
            rng = np.random.default_rng(seed)
            params = {}
            for l, (m, n) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
                params[f"W{l}"] = rng.normal(0.0, np.sqrt(2 / m), size=(m, n))
                params[f"b{l}"] = np.zeros(n)
            return params
        """),
    Case("init_mlp", "divided by sqrt(fan_in / 2), biases first", code="""
        def init_mlp(layer_sizes, seed=0):
            rng = np.random.default_rng(seed)
            L = len(layer_sizes) - 1
            params = {f"b{l}": np.zeros(layer_sizes[l]) for l in range(1, L + 1)}
            for l in range(1, L + 1):
                params[f"W{l}"] = rng.standard_normal((layer_sizes[l - 1], layer_sizes[l])) / np.sqrt(layer_sizes[l - 1] / 2)
            return params
        """),
    Case("init_mlp", "one generator per layer from a seed sequence", code="""
        def init_mlp(layer_sizes, seed=0):
            params = {}
            children = np.random.SeedSequence(seed).spawn(len(layer_sizes) - 1)
            for l, child in enumerate(children, start=1):
                rng = np.random.default_rng(child)
                fan_in, fan_out = layer_sizes[l - 1], layer_sizes[l]
                params[f"W{l}"] = np.sqrt(2.0 / fan_in) * rng.standard_normal((fan_in, fan_out))
                params[f"b{l}"] = np.zeros((fan_out,))
            return params
        """),
    Case("init_mlp", "a tuple of sizes and a while loop", code="""
        def init_mlp(layer_sizes, seed=0):
            rng = np.random.default_rng(seed)
            sizes = tuple(layer_sizes)
            params, l = {}, 1
            while l < len(sizes):
                params["W" + str(l)] = rng.standard_normal(size=(sizes[l - 1], sizes[l])) * (2.0 / sizes[l - 1]) ** 0.5
                params["b" + str(l)] = np.zeros(sizes[l], dtype=np.float64)
                l += 1
            return params
        """),
    # ---------------------------------------------------------------- mlp_loss: mistakes
    Case("mlp_loss", "sum instead of mean", replace=("float(-np.mean(log_p[np.arange(len(y)), y]))", "float(-np.sum(log_p[np.arange(len(y)), y]))"),
         fails="test_mlp_loss", says=r"all parameters 0.*sum instead of a mean"),
    Case("mlp_loss", "hard-coded two layers", code="""
        def mlp_loss(params, X, y):
            a = relu(X @ params["W1"] + params["b1"])
            z = a @ params["W2"] + params["b2"]
            z = z - z.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return float(-np.mean(log_p[np.arange(len(y)), y]))
        """, fails="test_mlp_loss", says=r"3-layer network.*Loop over all L"),
    Case("mlp_loss", "ReLU on the output layer", replace=("    z, _ = dense_forward(a, params[f\"W{L}\"], params[f\"b{L}\"])\n",
                                                       "    z = relu(dense_forward(a, params[f\"W{L}\"], params[f\"b{L}\"])[0])\n"),
         fails="test_mlp_loss", says=r"2-layer test batch"),
    Case("mlp_loss", "log of softmax", replace=(("    shifted = z - z.max(axis=1, keepdims=True)\n", ""),
                                                ("log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                                                 "log_p = np.log(softmax(z))")),
         fails="test_mlp_loss", says=r"large scores.*(inf|log-sum-exp)"),
    Case("mlp_loss", "no ReLU", replace=("        a = relu(z)\n", "        a = z\n"), fails="test_mlp_loss", says=r"2-layer test batch"),
    Case("mlp_loss", "mean over every class", replace=("float(-np.mean(log_p[np.arange(len(y)), y]))", "float(-np.mean(log_p))"),
         fails="test_mlp_loss", says=r"2-layer test batch"),
    Case("mlp_loss", "p[:, y]", replace=("log_p[np.arange(len(y)), y]", "log_p[:, y]"), fails="test_mlp_loss",
         says=r"2-layer test batch"),
    Case("mlp_loss", "L = len(params)", replace=("L = len(params) // 2", "L = len(params)"), fails="test_mlp_loss",
         says=r"mlp_loss raised KeyError"),
    Case("mlp_loss", "no bias", replace=(('dense_forward(a, params[f"W{l}"], params[f"b{l}"])', 'dense_forward(a, params[f"W{l}"], 0.0)'),
                                         ('dense_forward(a, params[f"W{L}"], params[f"b{L}"])', 'dense_forward(a, params[f"W{L}"], 0.0)')),
         fails="test_mlp_loss", says=r"2-layer test batch"),
    Case("mlp_loss", "stub", code="def mlp_loss(params, X, y):\n    raise NotImplementedError()", fails="test_mlp_loss", says=STUB),
    # ---------------------------------------------------------------- mlp_loss: correct variants
    Case("mlp_loss", "np.logaddexp.reduce and no dense_forward", code="""
        def mlp_loss(params, X, y):
            n_layers = len(params) // 2
            a = X
            for l in range(1, n_layers + 1):
                a = a @ params["W%d" % l] + params["b%d" % l]
                if l < n_layers:
                    a = np.maximum(a, 0)
            return float(np.mean(np.logaddexp.reduce(a, axis=1) - a[np.arange(X.shape[0]), y]))
        """),
    Case("mlp_loss", "a loop over the samples", code="""
        def mlp_loss(params, X, y):
            L = len(params) // 2
            total = 0.0
            for x_n, y_n in zip(X, y):
                a = x_n
                for l in range(1, L):
                    a = relu(a @ params[f"W{l}"] + params[f"b{l}"])
                z = a @ params[f"W{L}"] + params[f"b{L}"]
                m = z.max()
                total += m + np.log(np.sum(np.exp(z - m))) - z[y_n]
            return total / len(y)
        """),
    Case("mlp_loss", "a while loop over the keys, one-hot labels", code="""
        def mlp_loss(params, X, y):
            a, l = X, 1
            while f"W{l + 1}" in params:
                a = relu(dense_forward(a, params[f"W{l}"], params[f"b{l}"])[0])
                l += 1
            z = dense_forward(a, params[f"W{l}"], params[f"b{l}"])[0]
            Y = np.eye(z.shape[1])[y]
            lse = z.max(axis=1) + np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1))
            return float(np.mean(lse - (Y * z).sum(axis=1)))
        """),
    Case("mlp_loss", "float32 arithmetic", code="""
        def mlp_loss(params, X, y):
            L = len(params) // 2
            a = X.astype(np.float32)
            for l in range(1, L + 1):
                a = a @ params[f"W{l}"].astype(np.float32) + params[f"b{l}"].astype(np.float32)
                if l < L:
                    a = np.maximum(a, 0)
            m = a.max(axis=1, keepdims=True)
            log_p = a - m - np.log(np.exp(a - m).sum(axis=1, keepdims=True))
            return float(-log_p[np.arange(len(y)), y].mean())
        """),
    # ---------------------------------------------------------------- mlp_loss_and_grads: mistakes
    Case("mlp_loss_and_grads", "delta not divided by N", replace=("    dz /= n\n", ""), fails="test_mlp_loss_and_grads",
         says=r"gradient for '(W|b)\d' does not match"),
    Case("mlp_loss_and_grads", "sign of the output delta flipped",
         replace=(("dz = np.exp(log_p)\n    dz[np.arange(n), y] -= 1.0", "dz = -np.exp(log_p)\n    dz[np.arange(n), y] += 1.0")),
         fails="test_mlp_loss_and_grads", says=r"gradient for '(W|b)\d' does not match"),
    Case("mlp_loss_and_grads", "no ReLU derivative", replace=("dz = da * (hidden[l - 2] > 0)", "dz = da"),
         fails="test_mlp_loss_and_grads", says=r"'W2'|'b2'|'W1'|'b1'"),
    Case("mlp_loss_and_grads", "ReLU mask of the wrong layer", replace=("dz = da * (hidden[l - 2] > 0)", "dz = da * (hidden[-1] > 0)"),
         fails="test_mlp_loss_and_grads", says=r"'W1'|'b1'"),
    Case("mlp_loss_and_grads", "hard-coded two layers", code="""
        def mlp_loss_and_grads(params, X, y):
            n = X.shape[0]
            z1, c1 = dense_forward(X, params["W1"], params["b1"])
            a1 = relu(z1)
            z2, c2 = dense_forward(a1, params["W2"], params["b2"])
            z2 = z2 - z2.max(axis=1, keepdims=True)
            log_p = z2 - np.log(np.exp(z2).sum(axis=1, keepdims=True))
            dz = np.exp(log_p)
            dz[np.arange(n), y] -= 1
            dz /= n
            da1, dW2, db2 = dense_backward(dz, c2)
            _, dW1, db1 = dense_backward(da1 * (z1 > 0), c1)
            return float(-np.mean(log_p[np.arange(n), y])), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        """, fails="test_mlp_loss_and_grads", says=r"the loss of mlp_loss_and_grads"),
    Case("mlp_loss_and_grads", "loss a sum", replace=("loss = -np.mean(log_p[np.arange(n), y])", "loss = -np.sum(log_p[np.arange(n), y])"),
         fails="test_mlp_loss_and_grads", says=r"the loss of mlp_loss_and_grads"),
    Case("mlp_loss_and_grads", "params modified", replace=("    grads = {}\n", "    grads = {}\n    params[\"b1\"] += 0.0 * params[\"b1\"] + 1e-3\n"),
         fails="test_mlp_loss_and_grads", says=r"changed its input in place: params\['b1'\]"),
    Case("mlp_loss_and_grads", "dW1 transposed", replace=('grads["W1"], grads["b1"] = X.T @ dz', 'grads["W1"], grads["b1"] = dz.T @ X'),
         fails="test_mlp_loss_and_grads", says=r"grads\['W1'\] should have shape \(5, 6\).*transpose"),
    Case("mlp_loss_and_grads", "grads as a list", replace=("return float(loss), {k: grads[k] for k in params}",
                                                           "return float(loss), [grads[k] for k in params]"),
         fails="test_mlp_loss_and_grads", says=r"grads should be a dict"),
    Case("mlp_loss_and_grads", "stub", code="def mlp_loss_and_grads(params, X, y):\n    raise NotImplementedError()",
         fails="test_mlp_loss_and_grads", says=STUB),
    # ---------------------------------------------------------------- mlp_loss_and_grads: correct variants
    Case("mlp_loss_and_grads", "dense_backward for layer 1 too, relu_prime of the stored z", code="""
        def mlp_loss_and_grads(params, X, y):
            L = len(params) // 2
            caches, zs, a = [], [], X
            for l in range(1, L + 1):
                z, cache = dense_forward(a, params[f"W{l}"], params[f"b{l}"])
                caches.append(cache)
                zs.append(z)
                a = relu(z)
            p = softmax(z)
            N = len(y)
            m = z.max(axis=1)
            loss = np.mean(m + np.log(np.exp(z - m[:, None]).sum(axis=1)) - z[np.arange(N), y])
            dz = (p - np.eye(p.shape[1])[y]) / N
            grads = {}
            for l in range(L, 0, -1):
                da, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dz, caches[l - 1])
                if l > 1:
                    dz = da * relu_prime(zs[l - 2])
            return float(loss), grads
        """),
    Case("mlp_loss_and_grads", "no dense_backward, matrices by hand", code="""
        def mlp_loss_and_grads(params, X, y):
            L = len(params) // 2
            acts = [X]
            for l in range(1, L):
                acts.append(np.maximum(acts[-1] @ params[f"W{l}"] + params[f"b{l}"], 0))
            z = acts[-1] @ params[f"W{L}"] + params[f"b{L}"]
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            N = X.shape[0]
            loss = -np.mean(np.log(p[range(N), y]))
            delta = p.copy()
            delta[range(N), y] -= 1
            delta = delta / N
            grads = {}
            for l in range(L, 0, -1):
                grads[f"W{l}"] = acts[l - 1].T @ delta
                grads[f"b{l}"] = delta.sum(axis=0)
                if l > 1:
                    delta = (delta @ params[f"W{l}"].T) * (acts[l - 1] > 0)
            return loss, grads
        """),
    Case("mlp_loss_and_grads", "per-sample loop, gradients accumulated", code="""
        def mlp_loss_and_grads(params, X, y):
            L = len(params) // 2
            N = len(y)
            grads = {k: np.zeros_like(v) for k, v in params.items()}
            loss = 0.0
            for x_n, y_n in zip(X, y):
                acts = [x_n[None, :]]
                for l in range(1, L):
                    acts.append(relu(acts[-1] @ params[f"W{l}"] + params[f"b{l}"]))
                z = acts[-1] @ params[f"W{L}"] + params[f"b{L}"]
                m = z.max()
                lse = m + np.log(np.exp(z - m).sum())
                loss += (lse - z[0, y_n]) / N
                delta = np.exp(z - lse)
                delta[0, y_n] -= 1
                delta /= N
                for l in range(L, 0, -1):
                    grads[f"W{l}"] += acts[l - 1].T @ delta
                    grads[f"b{l}"] += delta[0]
                    if l > 1:
                        delta = (delta @ params[f"W{l}"].T) * (acts[l - 1] > 0)
            return loss, grads
        """),
    Case("mlp_loss_and_grads", "layer 1's dx computed too (not skipped)",
         replace=('grads["W1"], grads["b1"] = X.T @ dz, dz.sum(axis=0)', '_, grads["W1"], grads["b1"] = dense_backward(dz, caches[0])')),
    # ---------------------------------------------------------------- train_step: mistakes
    Case("train_step", "in place", code="""
        def train_step(params, X, y, lr):
            loss, grads = mlp_loss_and_grads(params, X, y)
            for k in params:
                params[k] -= lr * grads[k]
            return params, loss
        """, fails="test_train_step", says=r"train_step changed its input in place"),
    Case("train_step", "shallow copy updated in place", code="""
        def train_step(params, X, y, lr):
            loss, grads = mlp_loss_and_grads(params, X, y)
            new = dict(params)
            for k in new:
                new[k] -= lr * grads[k]
            return new, loss
        """, fails="test_train_step", says=r"train_step changed its input in place"),
    Case("train_step", "plus sign", replace=("value - lr * grads[name]", "value + lr * grads[name]"), fails="test_train_step",
         says=r"new_params\['W1'\] for lr = 0.3"),
    Case("train_step", "wrong return order", replace=("return new_params, loss", "return loss, new_params"),
         fails="test_train_step", says=r"the loss train_step returns|new_params should be a dict|should hold numbers"),
    Case("train_step", "loss after the step", replace=("return new_params, loss", "return new_params, mlp_loss(new_params, X, y)"),
         fails="test_train_step", says=r"the loss train_step returns"),
    Case("train_step", "learning rate hard-coded", replace=("value - lr * grads[name]", "value - 0.1 * grads[name]"),
         fails="test_train_step", says=r"for lr = 0.3"),
    Case("train_step", "biases not updated", replace=("{name: value - lr * grads[name] for name, value in params.items()}",
                                                       "{name: value - lr * grads[name] if name[0] == 'W' else value.copy() for name, value in params.items()}"),
         fails="test_train_step", says=r"new_params\['b1'\]"),
    Case("train_step", "gradient recomputed after each update", code="""
        def train_step(params, X, y, lr):
            loss, _ = mlp_loss_and_grads(params, X, y)
            new = {k: v.copy() for k, v in params.items()}
            for k in reversed(list(params)):
                _, grads = mlp_loss_and_grads(new, X, y)
                new[k] = new[k] - lr * grads[k]
            return new, loss
        """, fails="test_train_step", says=r"new_params\['(W|b)1'\] for lr = 0.3"),
    Case("train_step", "divided by N again", replace=("value - lr * grads[name]", "value - lr * grads[name] / len(y)"),
         fails="test_train_step", says=r"for lr = 0.3"),
    Case("train_step", "stub", code="def train_step(params, X, y, lr):\n    raise NotImplementedError()", fails="test_train_step",
         says=STUB),
    # ---------------------------------------------------------------- train_step: correct variants
    Case("train_step", "loop building a new dict", code="""
        def train_step(params, X, y, lr):
            loss, grads = mlp_loss_and_grads(params, X, y)
            new_params = {}
            for name in params:
                new_params[name] = params[name] - lr * grads[name]
            return new_params, loss
        """),
    Case("train_step", "over grads.items(), np.subtract", code="""
        def train_step(params, X, y, lr):
            loss, grads = mlp_loss_and_grads(params, X, y)
            return {k: np.subtract(params[k], lr * g) for k, g in grads.items()}, float(loss)
        """),
    Case("train_step", "deep copy, then in place on the copy", code="""
        def train_step(params, X, y, lr):
            import copy
            loss, grads = mlp_loss_and_grads(params, X, y)
            new = copy.deepcopy(params)
            for k in new:
                new[k] -= lr * grads[k]
            return new, loss
        """),
    Case("train_step", "a tuple of names", code="""
        def train_step(params, X, y, lr):
            loss, grads = mlp_loss_and_grads(params, X, y)
            names = tuple(params.keys())
            return dict(zip(names, (params[k] - grads[k] * lr for k in names))), loss
        """),
]

# A later exercise's test may fail too, but only by saying "fix <this exercise> first" (gradelib.testing.relies_on):
# the reference mlp_loss_and_grads calls dense_backward, and the reference train_step calls mlp_loss_and_grads.
_LATER = {"dense_backward": ("test_mlp_loss_and_grads", "test_train_step"), "mlp_loss_and_grads": ("test_train_step",)}
CASES = [dataclasses.replace(c, also_fails=_LATER[c.exercise]) if c.fails and c.exercise in _LATER else c for c in CASES]
