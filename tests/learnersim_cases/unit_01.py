"""Unit 01 (calculus recap): the mistakes each exercise's tests are written against, and the cases that prove it.

Each mistake must fail the visible part of its own exercise's test with the words in ``says``;
each correct variant must pass every test, hidden parts included.
"""
from tests.learnersim import Case

UNIT = "01_calculus_recap"

MISTAKES = {
    "forward_difference": [
        "divides by 2h (half the forward difference)",
        "computes the central or the backward difference instead",
        "ignores the h it is given (a hard-coded step)",
        "flips the sign: f(x) - f(x + h)",
        "forgets to divide by h",
        "operator precedence: f(x + h) - f(x) / h",
        "changes the default step",
        "prints instead of returning",
        "a relative step x * h instead of h",
        "still the stub",
    ],
    "central_difference": [
        "divides by h instead of 2h",
        "the forward difference instead of the central one",
        "(f(x + h) - f(x - h)) / 2 * h: multiplies by h",
        "steps by h/2 to each side",
        "ignores the h it is given",
        "flips the sign",
        "adds f(x + h) and f(x - h)",
        "changes the default step",
        "still the stub",
    ],
    "gradient": [
        "copies x keeping its integer dtype, so x + h rounds back to x",
        "a forward difference per coordinate",
        "works on the caller's array and puts x[i] back by adding and subtracting h (a one-ulp drift)",
        "works on the caller's array and never puts x[i] back",
        "forgets to put x[i] back before the next coordinate",
        "returns a Python list",
        "ignores the h it is given",
        "nudges every coordinate at once (a directional derivative)",
        "divides by h instead of 2h",
        "an integer result array (np.zeros_like of the integer input)",
        "still the stub",
    ],
    "gradient_descent": [
        "updates the caller's x0 in place",
        "stores the same array in every row (x -= ... after append)",
        "leaves the start out of the path",
        "adds the gradient instead of subtracting it",
        "evaluates the gradient at x0 every step",
        "returns a list of arrays",
        "returns only the last point",
        "keeps an integer start's dtype, so the iterates are rounded",
        "one update too many",
        "still the stub",
    ],
}

FD = "forward_difference"
CD = "central_difference"
GR = "gradient"
GD = "gradient_descent"
T_FD = "test_forward_difference"
T_CD = "test_central_difference"
T_GR = "test_gradient"
T_GD = "test_gradient_descent"

FD_REF = "return (f(x + h) - f(x)) / h"
CD_REF = "return (f(x + h) - f(x - h)) / (2 * h)"

CASES = [
    # forward_difference: mistakes
    Case(FD, "divides by 2h", replace=(FD_REF, "return (f(x + h) - f(x)) / (2 * h)"), fails=T_FD, says="divided by 2h"),
    Case(FD, "central difference", replace=(FD_REF, CD_REF), fails=T_FD, says="central difference"),
    Case(FD, "backward difference", replace=(FD_REF, "return (f(x) - f(x - h)) / h"), fails=T_FD, says="backward difference"),
    Case(FD, "hard-coded step", replace=(FD_REF, "return (f(x + 1e-5) - f(x)) / 1e-5"), fails=T_FD, says="use the h you were given"),
    Case(FD, "sign flipped", replace=(FD_REF, "return (f(x) - f(x + h)) / h"), fails=T_FD, says="sign"),
    Case(FD, "no division", replace=(FD_REF, "return f(x + h) - f(x)"), fails=T_FD, says="did not divide by h"),
    Case(FD, "precedence", replace=(FD_REF, "return f(x + h) - f(x) / h"), fails=T_FD, says=r"6\.25"),
    Case(FD, "default step changed", replace=("h=1e-5", "h=1e-3"), fails=T_FD, says="default h=1e-5"),
    Case(FD, "prints instead of returning", replace=(FD_REF, "print((f(x + h) - f(x)) / h)"), fails=T_FD,
         says="return a number, got NoneType"),
    Case(FD, "relative step", replace=(FD_REF, "return (f(x + x * h) - f(x)) / (x * h)"), fails=T_FD, says=r"should be 6\.25"),
    Case(FD, "stub", replace=(FD_REF, "raise NotImplementedError()"), fails=T_FD, says="not implemented yet: replace"),
    # forward_difference: correct variants
    Case(FD, "f(x) first", replace=(FD_REF, "fx = f(x)\n    fxh = f(x + h)\n    return (fxh - fx) / h")),
    Case(FD, "the exact step (x + h) - x", replace=(FD_REF, "xh = x + h\n    return (f(xh) - f(x)) / (xh - x)")),
    Case(FD, "multiplies by 1/h", replace=(FD_REF, "return (f(x + h) - f(x)) * (1.0 / h)")),
    Case(FD, "numpy arithmetic", replace=(FD_REF, "return float(np.divide(np.subtract(f(x + h), f(x)), h))")),
    Case(FD, "lambda", code="forward_difference = lambda f, x, h=1e-5: (f(x + h) - f(x)) / h"),
    # central_difference: mistakes
    Case(CD, "divides by h", replace=(CD_REF, "return (f(x + h) - f(x - h)) / h"), fails=T_CD, says="divides by 2h"),
    Case(CD, "forward difference", replace=(CD_REF, FD_REF), fails=T_CD, says="forward difference"),
    Case(CD, "multiplies by h", replace=(CD_REF, "return (f(x + h) - f(x - h)) / 2 * h"), fails=T_CD, says=r"/ \(2 \* h\)"),
    Case(CD, "half steps", replace=(CD_REF, "return (f(x + h / 2) - f(x - h / 2)) / h"), fails=T_CD, says="h/2"),
    Case(CD, "hard-coded step", replace=(CD_REF, "return (f(x + 1e-5) - f(x - 1e-5)) / 2e-5"), fails=T_CD,
         says="use the h you were given"),
    Case(CD, "sign flipped", replace=(CD_REF, "return (f(x - h) - f(x + h)) / (2 * h)"), fails=T_CD, says="sign"),
    Case(CD, "adds instead of subtracting", replace=(CD_REF, "return (f(x + h) + f(x - h)) / (2 * h)"), fails=T_CD,
         says=r"should be 12\.01"),
    Case(CD, "default step changed", replace=("h=1e-5", "h=1e-2"), fails=T_CD, says="default h=1e-5"),
    Case(CD, "backward difference", replace=(CD_REF, "return (f(x) - f(x - h)) / h"), fails=T_CD, says="backward difference"),
    Case(CD, "stub", replace=(CD_REF, "raise NotImplementedError()"), fails=T_CD, says="not implemented yet"),
    # central_difference: correct variants
    Case(CD, "mean of forward and backward", replace=(CD_REF, "return ((f(x + h) - f(x)) / h + (f(x) - f(x - h)) / h) / 2")),
    Case(CD, "0.5 * ... / h", replace=(CD_REF, "return 0.5 * (f(x + h) - f(x - h)) / h")),
    Case(CD, "h + h", replace=(CD_REF, "return (f(x + h) - f(x - h)) / (h + h)")),
    Case(CD, "numpy float", replace=(CD_REF, "return np.float64(f(x + h) - f(x - h)) / (2 * h)")),
    Case(CD, "uses forward_difference with -h", replace=(CD_REF, "return (forward_difference(f, x, h) + forward_difference(f, x, -h)) / 2")),
]

GR_COPY = "x = np.array(x, dtype=float)  # a copy: the caller's array is never touched"
GR_DIFF = "grad[i] = (f_plus - f_minus) / (2 * h)"
GD_COPY = "x = np.array(x0, dtype=float)"

CASES += [
    # gradient: mistakes
    Case(GR, "integer copy", replace=(GR_COPY, "x = np.copy(x)"), fails=T_GR, says="integer point.*float"),
    Case(GR, "forward difference", code="""
        def gradient(f, x, h=1e-5):
            x = np.array(x, dtype=float)
            grad = np.zeros_like(x)
            f0 = f(x)
            for i in range(x.size):
                xp = x.copy()
                xp[i] += h
                grad[i] = (f(xp) - f0) / h
            return grad
        """, fails=T_GR, says="forward difference"),
    Case(GR, "no copy, +h then -h drift", code="""
        def gradient(f, x, h=1e-5):
            x = np.asarray(x, dtype=float)
            grad = np.zeros_like(x)
            for i in range(x.size):
                x[i] += h
                f_plus = f(x)
                x[i] -= 2 * h
                f_minus = f(x)
                x[i] += h
                grad[i] = (f_plus - f_minus) / (2 * h)
            return grad
        """, fails=T_GR, says=r"changed its input in place: x\[\d\] was [-\d.]+ and is now [-\d.]+"),
    Case(GR, "no copy, never restores", code="""
        def gradient(f, x, h=1e-5):
            x = np.asarray(x, dtype=float)
            grad = np.zeros_like(x)
            for i in range(x.size):
                x[i] += h
                f_plus = f(x)
                x[i] -= 2 * h
                grad[i] = (f_plus - f(x)) / (2 * h)
            return grad
        """, fails=T_GR, says="changed its input in place|puts? x\\[i\\] back"),
    Case(GR, "forgets to put x[i] back", replace=("        x[i] = old\n", ""), fails=T_GR, says="puts? x\\[i\\] back"),
    Case(GR, "returns a list", code="""
        def gradient(f, x, h=1e-5):
            x = np.array(x, dtype=float)
            grad = []
            for i in range(x.size):
                e = np.zeros_like(x)
                e[i] = h
                grad.append((f(x + e) - f(x - e)) / (2 * h))
            return grad
        """, fails=T_GR, says="numpy array, got a list"),
    Case(GR, "hard-coded step", replace=(GR_DIFF, "grad[i] = (f_plus - f_minus) / (2 * 1e-5)"), fails=T_GR,
         says="12.01"),
    Case(GR, "all coordinates at once", code="""
        def gradient(f, x, h=1e-5):
            x = np.array(x, dtype=float)
            d = (f(x + h) - f(x - h)) / (2 * h)
            return np.full(x.shape, d)
        """, fails=T_GR, says="one coordinate at a time"),
    Case(GR, "divides by h", replace=(GR_DIFF, "grad[i] = (f_plus - f_minus) / h"), fails=T_GR, says="should be|wrong at"),
    Case(GR, "integer result array", code="""
        def gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            x = np.array(x, dtype=float)
            for i in range(x.size):
                e = np.zeros_like(x)
                e[i] = h
                grad[i] = (f(x + e) - f(x - e)) / (2 * h)
            return grad
        """, fails=T_GR, says="should hold floats, got int"),
    Case(GR, "returns the transpose shape", replace=("return grad", "return grad.reshape(-1, 1)"), fails=T_GR,
         says=r"shape \(1,\), got \(1, 1\)"),
    Case(GR, "in-place nudge of an integer copy", code="""
        def gradient(f, x, h=1e-5):
            x = np.copy(x)
            grad = np.zeros(x.shape)
            for i in range(x.size):
                x[i] += h
                f_plus = f(x)
                x[i] -= 2 * h
                f_minus = f(x)
                x[i] += h
                grad[i] = (f_plus - f_minus) / (2 * h)
            return grad
        """, fails=T_GR, says="integer point.*dtype=float"),
    Case(GR, "stub", code="def gradient(f, x, h=1e-5):\n    raise NotImplementedError()", fails=T_GR, says="gradient is not implemented yet"),
    # gradient: correct variants
    Case(GR, "unit vectors from np.eye", code="""
        def gradient(f, x, h=1e-5):
            x = np.asarray(x, dtype=float)
            return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])
        """),
    Case(GR, "a fresh copy per coordinate", code="""
        def gradient(f, x, h=1e-5):
            x = np.asarray(x, dtype=np.float64)
            grad = np.empty(len(x))
            for i in range(len(x)):
                xp, xm = x.copy(), x.copy()
                xp[i] += h
                xm[i] -= h
                grad[i] = (f(xp) - f(xm)) / (2 * h)
            return grad
        """),
    Case(GR, "uses central_difference", code="""
        def gradient(f, x, h=1e-5):
            x = np.array(x, dtype=float)
            def along(i):
                def g(t):
                    y = x.copy()
                    y[i] = t
                    return f(y)
                return g
            return np.array([central_difference(along(i), x[i], h) for i in range(x.size)])
        """),
    Case(GR, "astype copy and enumerate", code="""
        def gradient(f, x, h=1e-5):
            point = np.asarray(x).astype(float)
            out = np.zeros(point.shape)
            for i, value in enumerate(point):
                point[i] = value + h
                up = f(point)
                point[i] = value - h
                down = f(point)
                point[i] = value
                out[i] = (up - down) / (2 * h)
            return out
        """),
    Case(GR, "float64 result via np.fromiter", code="""
        def gradient(f, x, h=1e-5):
            base = np.array(x, dtype=float)
            def partial(i):
                step = np.zeros_like(base)
                step[i] = h
                return (f(base + step) - f(base - step)) / (2 * h)
            return np.fromiter((partial(i) for i in range(base.size)), dtype=float, count=base.size)
        """),
    # gradient_descent: mistakes
    Case(GD, "updates x0 in place", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.asarray(x0, dtype=float)
            path = [x.copy()]
            for _ in range(steps):
                x -= lr * grad(x)
                path.append(x.copy())
            return np.array(path)
        """, fails=T_GD, says="changed its input in place: x0"),
    Case(GD, "same array in every row", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.array(x0, dtype=float)
            path = [x]
            for _ in range(steps):
                x -= lr * grad(x)
                path.append(x)
            return np.array(path)
        """, fails=T_GD, says="every row holds the last point"),
    Case(GD, "start left out", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.array(x0, dtype=float)
            path = []
            for _ in range(steps):
                x = x - lr * grad(x)
                path.append(x)
            return np.array(path)
        """, fails=T_GD, says="should give 4 rows"),
    Case(GD, "adds the gradient", replace=("x = x - lr *", "x = x + lr *"), fails=T_GD, says="minus lr \\* grad"),
    Case(GD, "gradient at x0 every step", replace=("np.asarray(grad(x), dtype=float)", "np.asarray(grad(path[0]), dtype=float)"),
         fails=T_GD, says="wrong at"),
    Case(GD, "list of arrays", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.array(x0, dtype=float)
            path = [x]
            for _ in range(steps):
                x = x - lr * grad(x)
                path.append(x)
            return path
        """, fails=T_GD, says="one numpy array.*got a list"),
    Case(GD, "only the last point", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.array(x0, dtype=float)
            for _ in range(steps):
                x = x - lr * grad(x)
            return x
        """, fails=T_GD, says="one point: return the whole path"),
    Case(GD, "integer rows from np.tile", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.array(x0)
            path = np.tile(x, (steps + 1, 1))
            for k in range(1, steps + 1):
                path[k] = path[k - 1] - lr * grad(path[k - 1])
            return path
        """, fails=T_GD, says="integer start.*should hold floats"),
    Case(GD, "in-place update of an integer copy", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.copy(x0)
            path = [x.copy()]
            for _ in range(steps):
                x -= lr * grad(x)
                path.append(x.copy())
            return np.array(path)
        """, fails=T_GD, says="integer start.*raised.*np.array\\(x0, dtype=float\\)"),
    Case(GD, "one update too many", replace=("for k in range(1, steps + 1):", "for k in range(1, steps + 2):"),
         fails=T_GD, says="index|raised"),
    Case(GD, "learning rate squared", replace=("x = x - lr *", "x = x - lr * lr *"), fails=T_GD, says="wrong at"),
    Case(GD, "stub", code="def gradient_descent(grad, x0, lr, steps):\n    raise NotImplementedError()", fails=T_GD,
         says="gradient_descent is not implemented yet"),
    # gradient_descent: correct variants
    Case(GD, "list then np.array", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.array(x0, dtype=float)
            path = [x]
            for _ in range(steps):
                x = x - lr * np.asarray(grad(x))
                path.append(x)
            return np.array(path)
        """),
    Case(GD, "np.vstack", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.asarray(x0, dtype=np.float64).copy()
            rows = [x.copy()]
            k = 0
            while k < steps:
                x -= lr * grad(x)
                rows.append(x.copy())
                k += 1
            return np.vstack(rows)
        """),
    Case(GD, "preallocated, update from the previous row", code="""
        def gradient_descent(grad, x0, lr, steps):
            start = np.array(x0, dtype=float)
            path = np.zeros((steps + 1, start.shape[0]))
            path[0] = start
            for k in range(steps):
                path[k + 1] = path[k] - lr * grad(path[k])
            return path
        """),
    Case(GD, "copy of x0 then in-place updates", code="""
        def gradient_descent(grad, x0, lr, steps):
            x = np.copy(x0).astype(float)
            path = np.empty((steps + 1, x.size), dtype=np.float64)
            for k in range(steps + 1):
                path[k] = x
                if k < steps:
                    x -= lr * grad(x)
            return path
        """),
]
