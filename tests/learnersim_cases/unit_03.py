"""Unit 03 (feed-forward networks): the common mistakes of each exercise, and the learners' versions that stand for them.

Each mistake must fail the visible part of its own exercise's test, with the words in ``says``,
and no other test; each correct variant must pass every test, hidden ones included.
"""
import dataclasses

from tests.learnersim import Case

UNIT = "03_feed_forward"

MISTAKES = {
    "sigmoid": [
        "the naive formula 1 / (1 + exp(-z)): right numbers, but exp overflows (numpy warns) at z = -1000",
        "the other naive formula exp(z) / (1 + exp(z)): nan at z = +1000",
        "np.where with the two naive branches: np.where evaluates both, so one of them overflows",
        "the sign of the exponent flipped: 1 / (1 + exp(z))",
        "np.tanh(z) or another squashing function in place of the sigmoid",
        "clipping z to [-500, 500] before a naive formula, at a bound that still overflows",
        "modifying z in place (z[z < 0] = ... or z *= -1)",
        "1 - 1 / (1 + exp(z)) with exp(z) unguarded",
    ],
    "sigmoid_prime": [
        "z * (1 - z): the output-form derivative applied to z instead of to sigmoid(z)",
        "sigmoid(z) * (1 + sigmoid(z)) or 1 - sigmoid(z) ** 2 (tanh's derivative)",
        "the naive exp(-z) / (1 + exp(-z)) ** 2: overflow (inf / inf = nan) at z = -1000",
        "a missing factor: sigmoid(z) alone, or 1 - sigmoid(z)",
        "a stable-looking formula whose intermediate overflows (1 / (2 + exp(z) + exp(-z)))",
        "modifying z in place",
        "relying on a sigmoid that is itself unstable (blamed on sigmoid, not sigmoid_prime)",
        "0.25 * (1 - tanh(z) ** 2): tanh at the wrong scale",
    ],
    "relu": [
        "in place: z[z < 0] = 0; return z (changes the caller's array)",
        "np.max(z, 0): a maximum along axis 0, not elementwise",
        "np.minimum(z, 0): the negative part",
        "np.abs(z)",
        "returning the mask z > 0 (the derivative) instead of the values",
        "Python's max(0, z) on an array: 'truth value of an array is ambiguous'",
        "np.maximum(z, 0, out=z): in place again",
        "z * (z < 0): the wrong side",
    ],
    "relu_prime": [
        "returning the boolean mask z > 0 instead of floats",
        "returning relu(z) itself",
        "np.sign(z): -1 for negative inputs",
        "the wrong side: (z < 0).astype(float)",
        "in place: z[z > 0] = 1; z[z <= 0] = 0; return z",
        "a value outside [0, 1] at the kink (np.heaviside(z, 2))",
        "np.where(z > 0, z, 0): the values, not the slope",
        "1.0 everywhere (np.ones_like(z))",
    ],
    "dense_forward": [
        "forgetting the bias",
        "W @ x + b or x @ W.T: the product the wrong way round",
        "the bias added along the wrong axis: b[:, None] (unnoticed when N == M)",
        "returning only out, not the tuple (out, cache)",
        "a cache without b, or in another order (W, x, b)",
        "x * W + b: elementwise, not a matrix product",
        "out = x @ W; out += b inside a cache of (out, W, b)",
        "modifying x in place (x @= W, or x += ...)",
    ],
    "softmax": [
        "no shift: exp(z) / sum exp(z) overflows (nan) for logits of 1e4",
        "one maximum for the whole array: z - z.max(), 0 / 0 on a row far below it",
        "in place: z -= z.max(axis=1, keepdims=True) changes the caller's logits",
        "the sum over axis 0 (columns) instead of each row",
        "the maximum over axis 0 (columns)",
        "no keepdims: z - z.max(axis=1) broadcasts along the wrong axis",
        "the shift in the numerator only: exp(z - max) / sum exp(z)",
        "exp(z) / exp(z).sum(): one sum for the whole array",
    ],
}

STABLE = "not numerically stable"


def _sig(body: str) -> str:
    return f"def sigmoid(z):\n{body}"


CASES = [
    # ---------------------------------------------------------------- sigmoid: mistakes
    Case("sigmoid", "naive 1/(1+exp(-z))", _sig("    return 1 / (1 + np.exp(-z))"), fails="test_sigmoid", says=STABLE),
    Case("sigmoid", "naive exp(z)/(1+exp(z))", _sig("    return np.exp(z) / (1 + np.exp(z))"), fails="test_sigmoid", says=STABLE),
    Case("sigmoid", "np.where of the two naive branches",
         _sig("    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))"),
         fails="test_sigmoid", says=STABLE),
    Case("sigmoid", "sign of the exponent flipped",
         _sig("    e = np.exp(-np.abs(z))\n    return np.where(z <= 0, 1 / (1 + e), e / (1 + e))"),
         fails="test_sigmoid", says=r"sigmoid\(\[-2, -0.9, 0, 2\]\).*sign of the exponent"),
    Case("sigmoid", "tanh instead of sigmoid", _sig("    return np.tanh(z)"), fails="test_sigmoid", says=r"yours -0\.96"),
    Case("sigmoid", "clip to 1000 then naive", _sig("    z = np.clip(z, -1000, 1000)\n    return 1 / (1 + np.exp(-z))"),
         fails="test_sigmoid", says=STABLE),
    Case("sigmoid", "in place negation", _sig("    z *= -1\n    e = np.exp(-np.abs(z))\n    return np.where(z <= 0, 1 / (1 + e), e / (1 + e))"),
         fails="test_sigmoid", says=r"sigmoid changed its input in place"),
    Case("sigmoid", "1 - 1/(1+exp(z))", _sig("    return 1 - 1 / (1 + np.exp(z))"), fails="test_sigmoid", says=STABLE),
    Case("sigmoid", "stub left in place", _sig("    raise NotImplementedError()"), fails="test_sigmoid",
         says=r"sigmoid is not implemented yet"),
    # ---------------------------------------------------------------- sigmoid: correct variants
    Case("sigmoid", "tanh form 0.5 * (1 + tanh(z / 2))", _sig("    return 0.5 * (1 + np.tanh(z / 2))")),
    Case("sigmoid", "exp(-logaddexp(0, -z))", _sig("    return np.exp(-np.logaddexp(0.0, -z))")),
    Case("sigmoid", "masks and two branches without np.where", _sig(
        "    z = np.asarray(z, dtype=float)\n    out = np.empty_like(z)\n    pos = z >= 0\n"
        "    out[pos] = 1 / (1 + np.exp(-z[pos]))\n    e = np.exp(z[~pos])\n    out[~pos] = e / (1 + e)\n    return out")),
    Case("sigmoid", "a Python loop with math.exp", _sig(
        "    import math\n    z = np.asarray(z, dtype=float)\n    out = np.empty_like(z)\n"
        "    for i, v in np.ndenumerate(z):\n        out[i] = 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))\n"
        "    return out")),
    Case("sigmoid", "float32 arithmetic", _sig(
        "    z = np.asarray(z, dtype=np.float32)\n    e = np.exp(-np.abs(z))\n"
        "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))")),
    Case("sigmoid", "clip to [-500, 500] then the naive formula", _sig("    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))")),
    # ---------------------------------------------------------------- sigmoid_prime: mistakes
    Case("sigmoid_prime", "z * (1 - z)", "def sigmoid_prime(z):\n    return z * (1 - z)", fails="test_sigmoid_prime",
         says=r"sigmoid_prime\(\[-0.9, 0, 2\]\).*apply it to sigmoid\(z\)"),
    Case("sigmoid_prime", "s * (1 + s)", "def sigmoid_prime(z):\n    s = sigmoid(z)\n    return s * (1 + s)",
         fails="test_sigmoid_prime", says=r"sigmoid_prime\(\[-0.9, 0, 2\]\)"),
    Case("sigmoid_prime", "tanh's derivative 1 - s**2", "def sigmoid_prime(z):\n    return 1 - sigmoid(z) ** 2",
         fails="test_sigmoid_prime", says=r"sigmoid_prime\(\[-0.9, 0, 2\]\)"),
    Case("sigmoid_prime", "naive exp(-z)/(1+exp(-z))**2", "def sigmoid_prime(z):\n    return np.exp(-z) / (1 + np.exp(-z)) ** 2",
         fails="test_sigmoid_prime", says=STABLE),
    Case("sigmoid_prime", "sigmoid alone", "def sigmoid_prime(z):\n    return sigmoid(z)", fails="test_sigmoid_prime",
         says=r"sigmoid_prime\(\[-0.9, 0, 2\]\)"),
    Case("sigmoid_prime", "1 - sigmoid", "def sigmoid_prime(z):\n    return 1 - sigmoid(z)", fails="test_sigmoid_prime",
         says=r"sigmoid_prime\(\[-0.9, 0, 2\]\)"),
    Case("sigmoid_prime", "1/(2 + exp(z) + exp(-z)) overflows", "def sigmoid_prime(z):\n    return 1 / (2 + np.exp(z) + np.exp(-z))",
         fails="test_sigmoid_prime", says=STABLE),
    Case("sigmoid_prime", "in place", "def sigmoid_prime(z):\n    z[...] = sigmoid(z)\n    return z * (1 - z)",
         fails="test_sigmoid_prime", says=r"sigmoid_prime changed its input in place"),
    Case("sigmoid_prime", "tanh at the wrong scale", "def sigmoid_prime(z):\n    return 0.25 * (1 - np.tanh(z) ** 2)",
         fails="test_sigmoid_prime", says=r"sigmoid_prime\(\[-0.9, 0, 2\]\)"),
    # ---------------------------------------------------------------- sigmoid_prime: correct variants
    Case("sigmoid_prime", "sigmoid(z) * sigmoid(-z)", "def sigmoid_prime(z):\n    return sigmoid(z) * sigmoid(-z)"),
    Case("sigmoid_prime", "stable closed form e / (1 + e)**2",
         "def sigmoid_prime(z):\n    e = np.exp(-np.abs(z))\n    return e / (1 + e) ** 2"),
    Case("sigmoid_prime", "own sigmoid via tanh", "def sigmoid_prime(z):\n    s = 0.5 * (1 + np.tanh(z / 2))\n    return s - s * s"),
    Case("sigmoid_prime", "0.25 / cosh(z / 2)**2 guarded",
         "def sigmoid_prime(z):\n    c = np.cosh(np.clip(z, -700, 700) / 2)\n    return 0.25 / c ** 2"),
    Case("sigmoid_prime", "float32", "def sigmoid_prime(z):\n    s = sigmoid(np.asarray(z, dtype=np.float32))\n    return s * (1 - s)"),
    # ---------------------------------------------------------------- relu: mistakes
    Case("relu", "in place z[z < 0] = 0", "def relu(z):\n    z[z < 0] = 0\n    return z", fails="test_relu",
         says=r"relu changed its input in place: z\[0\] was -2"),
    Case("relu", "np.max(z, 0)", "def relu(z):\n    return np.max(z, 0)", fails="test_relu", says=r"elementwise: np\.maximum"),
    Case("relu", "np.minimum", "def relu(z):\n    return np.minimum(z, 0.0)", fails="test_relu", says=r"relu\(\[-2, -0.5, 0, 0.5, 2\]\)"),
    Case("relu", "np.abs", "def relu(z):\n    return np.abs(z)", fails="test_relu", says=r"relu\(\[-2"),
    Case("relu", "the mask z > 0", "def relu(z):\n    return (z > 0).astype(float)", fails="test_relu", says=r"relu\(\[-2"),
    Case("relu", "Python max", "def relu(z):\n    return max(0, z)", fails="test_relu", says=r"relu raised ValueError.*ambiguous"),
    Case("relu", "np.maximum with out=z", "def relu(z):\n    return np.maximum(z, 0, out=z)", fails="test_relu",
         says=r"in place"),
    Case("relu", "the wrong side z * (z < 0)", "def relu(z):\n    return z * (z < 0)", fails="test_relu", says=r"relu\(\[-2"),
    # ---------------------------------------------------------------- relu: correct variants
    Case("relu", "z * (z > 0)", "def relu(z):\n    return z * (z > 0)"),
    Case("relu", "np.where", "def relu(z):\n    return np.where(z > 0, z, 0.0)"),
    Case("relu", "clip", "def relu(z):\n    return np.clip(z, 0, None)"),
    Case("relu", "(z + |z|) / 2", "def relu(z):\n    return (z + np.abs(z)) / 2"),
    Case("relu", "copy then assign", "def relu(z):\n    a = np.array(z, dtype=float)\n    a[a < 0] = 0.0\n    return a"),
    # ---------------------------------------------------------------- relu_prime: mistakes
    Case("relu_prime", "boolean mask", "def relu_prime(z):\n    return z > 0", fails="test_relu_prime", says=r"floats.*bool"),
    Case("relu_prime", "relu itself", "def relu_prime(z):\n    return np.maximum(z, 0.0)", fails="test_relu_prime",
         says=r"relu_prime away from the kink"),
    Case("relu_prime", "np.sign", "def relu_prime(z):\n    return np.sign(z)", fails="test_relu_prime", says=r"relu_prime away from the kink"),
    Case("relu_prime", "the wrong side", "def relu_prime(z):\n    return (z < 0).astype(float)", fails="test_relu_prime",
         says=r"away from the kink"),
    Case("relu_prime", "in place", "def relu_prime(z):\n    z[z > 0] = 1.0\n    z[z <= 0] = 0.0\n    return z",
         fails="test_relu_prime", says=r"relu_prime changed its input in place"),
    Case("relu_prime", "heaviside(z, 2): 2 at the kink", "def relu_prime(z):\n    return np.heaviside(z, 2.0)",
         fails="test_relu_prime", says=r"relu_prime\(0\) is 2.*\[0, 1\]"),
    Case("relu_prime", "values not slope", "def relu_prime(z):\n    return np.where(z > 0, z, 0.0)", fails="test_relu_prime",
         says=r"away from the kink"),
    Case("relu_prime", "ones everywhere", "def relu_prime(z):\n    return np.ones_like(z)", fails="test_relu_prime",
         says=r"away from the kink"),
    # ---------------------------------------------------------------- relu_prime: correct variants
    Case("relu_prime", "0.5 at the kink (heaviside)", "def relu_prime(z):\n    return np.heaviside(z, 0.5)"),
    Case("relu_prime", "1 at the kink (z >= 0)", "def relu_prime(z):\n    return (z >= 0).astype(float)"),
    Case("relu_prime", "np.where(z > 0, 1.0, 0.0)", "def relu_prime(z):\n    return np.where(z > 0, 1.0, 0.0)"),
    Case("relu_prime", "float32 mask", "def relu_prime(z):\n    return (z > 0).astype(np.float32)"),
    Case("relu_prime", "loop", "def relu_prime(z):\n    out = np.zeros(np.shape(z))\n    for i, v in np.ndenumerate(z):\n"
         "        out[i] = 1.0 if v > 0 else 0.0\n    return out"),
    # ---------------------------------------------------------------- dense_forward: mistakes
    Case("dense_forward", "forgot the bias", replace=("out = x @ W + b", "out = x @ W"), fails="test_dense_forward",
         says=r"out for the worked example"),
    Case("dense_forward", "W @ x", replace=("out = x @ W + b", "out = W @ x + b"), fails="test_dense_forward",
         says=r"dense_forward raised ValueError"),
    Case("dense_forward", "x @ W.T", replace=("out = x @ W + b", "out = x @ W.T + b"), fails="test_dense_forward",
         says=r"dense_forward raised ValueError"),
    Case("dense_forward", "bias on the wrong axis", replace=("out = x @ W + b", "out = x @ W + b[:, None]"),
         fails="test_dense_forward", says=r"out for the worked example"),
    Case("dense_forward", "returns out only", replace=("return out, cache", "return out"), fails="test_dense_forward",
         says=r"should return a tuple \(out, cache\)"),
    Case("dense_forward", "cache without b", replace=("cache = (x, W, b)", "cache = (x, W)"), fails="test_dense_forward",
         says=r"cache should be the tuple \(x, W, b\)"),
    Case("dense_forward", "cache in another order", replace=("cache = (x, W, b)", "cache = (W, x, b)"),
         fails="test_dense_forward", says=r"cache's entry for x"),
    Case("dense_forward", "elementwise x * W", replace=("out = x @ W + b", "out = x * W + b"), fails="test_dense_forward",
         says=r"dense_forward raised ValueError"),
    Case("dense_forward", "caches out instead of x", replace=("cache = (x, W, b)", "cache = (out, W, b)"),
         fails="test_dense_forward", says=r"cache's entry for x"),
    Case("dense_forward", "adds the bias into x in place", code="""
        def dense_forward(x, W, b):
            x += 0.0 * x.sum() + (b.sum() if x.shape[1] == len(b) else 1.0)
            return x @ W + b, (x, W, b)
        """, fails="test_dense_forward", says=r"dense_forward changed its input in place"),
    # ---------------------------------------------------------------- dense_forward: correct variants
    Case("dense_forward", "np.dot and a list cache", code="""
        def dense_forward(x, W, b):
            return np.dot(x, W) + b, [x, W, b]
        """),
    Case("dense_forward", "einsum", code="""
        def dense_forward(x, W, b):
            return np.einsum("nd,dm->nm", x, W) + b[None, :], (x, W, b)
        """),
    Case("dense_forward", "loops over examples and neurons", code="""
        def dense_forward(x, W, b):
            out = np.zeros((x.shape[0], W.shape[1]))
            for n in range(x.shape[0]):
                for m in range(W.shape[1]):
                    out[n, m] = x[n] @ W[:, m] + b[m]
            return out, (x, W, b)
        """),
    Case("dense_forward", "copies in the cache", code="""
        def dense_forward(x, W, b):
            out = x @ W
            out += b
            return out, (x.copy(), W.copy(), b.copy())
        """),
    Case("dense_forward", "(W.T @ x.T).T", code="""
        def dense_forward(x, W, b):
            return (W.T @ x.T).T + b, (x, W, b)
        """),
    # float32 arithmetic: its hidden check_layer passes once gradelib stops warning on passing low-precision checks
    Case("dense_forward", "float32 arithmetic", code="""
        def dense_forward(x, W, b):
            out = x.astype(np.float32) @ W.astype(np.float32) + b.astype(np.float32)
            return out, (x, W, b)
        """),
    # ---------------------------------------------------------------- softmax: mistakes
    Case("softmax", "no shift", code="""
        def softmax(z):
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        """, fails="test_softmax", says=STABLE + r".*each row's maximum"),
    Case("softmax", "one global max", replace=("z - z.max(axis=1, keepdims=True)", "z - z.max()"), fails="test_softmax",
         says=STABLE + r".*each row's own maximum"),
    Case("softmax", "in place z -= max", code="""
        def softmax(z):
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        """, fails="test_softmax", says=r"softmax changed its input in place: z\[0, 0\] was 2"),
    Case("softmax", "sum over axis 0", replace=("e.sum(axis=1, keepdims=True)", "e.sum(axis=0, keepdims=True)"),
         fails="test_softmax", says=r"softmax of the worked example.*axis=1"),
    Case("softmax", "max over axis 0", replace=("z.max(axis=1, keepdims=True)", "z.max(axis=0, keepdims=True)"),
         fails="test_softmax", says=r"axis=1"),
    Case("softmax", "no keepdims", replace=(("z.max(axis=1, keepdims=True)", "z.max(axis=1)"),
                                             ("e.sum(axis=1, keepdims=True)", "e.sum(axis=1)")),
         fails="test_softmax", says=r"softmax raised ValueError"),
    Case("softmax", "shift in the numerator only", code="""
        def softmax(z):
            with np.errstate(over="ignore"):
                return np.exp(z - z.max(axis=1, keepdims=True)) / np.exp(z).sum(axis=1, keepdims=True)
        """, fails="test_softmax", says=r"softmax of the worked example"),
    Case("softmax", "one sum for the whole array", replace=("e.sum(axis=1, keepdims=True)", "e.sum()"),
         fails="test_softmax", says=r"softmax of the worked example"),
    # ---------------------------------------------------------------- softmax: correct variants
    Case("softmax", "log-sum-exp", code="""
        def softmax(z):
            m = z.max(axis=1, keepdims=True)
            return np.exp(z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
        """),
    Case("softmax", "row by row loop", code="""
        def softmax(z):
            out = np.empty(z.shape)
            for n in range(z.shape[0]):
                e = np.exp(z[n] - np.max(z[n]))
                out[n] = e / np.sum(e)
            return out
        """),
    Case("softmax", "copy, then in place on the copy", code="""
        def softmax(z):
            p = np.array(z, dtype=float)
            p -= p.max(axis=-1, keepdims=True)
            np.exp(p, out=p)
            p /= p.sum(axis=-1, keepdims=True)
            return p
        """),
    Case("softmax", "float32", code="""
        def softmax(z):
            z = np.asarray(z, dtype=np.float32)
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        """),
    Case("softmax", "max via [:, None]", code="""
        def softmax(z):
            e = np.exp(z - np.max(z, axis=1)[:, None])
            return e / np.sum(e, axis=1)[:, None]
        """),
]

# The reference sigmoid_prime calls sigmoid: a wrong sigmoid may also fail test_sigmoid_prime, but only as
# "this test uses your sigmoid ...: fix sigmoid first" (gradelib.testing.relies_on).
CASES = [dataclasses.replace(c, also_fails=("test_sigmoid_prime",)) if c.exercise == "sigmoid" and c.fails else c
         for c in CASES]
