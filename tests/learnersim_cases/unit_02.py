"""Unit 02 (the chain rule, a Value engine): the mistakes each exercise's tests are written against, and the cases.

Each mistake must fail the visible part of its own exercise's test with the words in ``says``; a test of a
later exercise may fail too, but only by saying which earlier exercise to fix first (``also_fails``). Each
correct variant must pass every test, hidden parts included. The tests of backward() build their graphs by
hand, so a mistake in + or * never fails them.
"""
from tests.learnersim import Case

UNIT = "02_chain_rule"

MISTAKES = {
    "value_add_mul": [
        "= instead of += in __add__ (a node used twice loses a contribution)",
        "= instead of += in __mul__",
        "__mul__ forgets the upstream gradient out.grad",
        "__add__ forgets the upstream gradient out.grad",
        "__mul__ swaps the local derivatives",
        "a plain number is not wrapped in a Value",
        "forgets to attach _backward to the result",
        "does not record the children",
        "returns a float instead of a Value",
        "__mul__ updates only self.grad",
        "still the stub",
    ],
    "backward": [
        "no visited set: a shared node's _backward runs twice",
        "a breadth-first walk from the output (a queue) instead of a topological order",
        "recursive depth-first search: RecursionError on a deep chain",
        "forgets to set the output's grad to 1",
        "sets the output's grad to 1 after the walk",
        "walks the topological order forwards instead of reversed",
        "calls only the output's _backward",
        "pre-order depth-first search (a node before its children)",
        "calls _backward as nodes are popped from a depth-first stack",
        "remembers visited nodes by their data, so equal-valued nodes are skipped",
        "still the stub",
    ],
    "value_more_ops": [
        "the local derivative of a**k written k * a**k",
        "= instead of += in __pow__",
        "__pow__ forgets out.grad",
        "__neg__ returns a new leaf (no graph)",
        "__sub__ returns a new leaf (no graph)",
        "__rsub__ computes self - other",
        "__rtruediv__ computes self / other",
        "__truediv__ computes other / self",
        "__pow__'s data is self.data * k",
        "__sub__ forgets the minus",
        "still the stub",
    ],
    "value_tanh_exp": [
        "tanh's local derivative 1 - t instead of 1 - t**2",
        "tanh forgets out.grad",
        "= instead of += in tanh",
        "exp forgets out.grad",
        "= instead of += in exp",
        "exp's local derivative self.data instead of exp(self.data)",
        "relu's mask on the wrong side (self.data < 0)",
        "relu passes every gradient (no mask)",
        "relu returns a new leaf (no graph)",
        "tanh's derivative from the input: 1 - a**2",
        "relu forgets out.grad",
        "still the stub",
    ],
    "engine_gradient": [
        "returns a Python list",
        "returns the data instead of the gradients",
        "forgets backward()",
        "reads the gradients of other Values than those passed to f",
        "calls f with the numbers, not Values",
        "returns an array of Value objects",
        "returns shape (n, 1)",
        "writes the gradients into the caller's x",
        "returns the output's grad instead of the inputs'",
        "still the stub",
    ],
}

A1, A2 = "value_add_mul", "backward"
A3, A4, A5 = "value_more_ops", "value_tanh_exp", "engine_gradient"
T1, T2, T3, T4, T5 = ("test_value_add_mul", "test_backward", "test_value_more_ops", "test_value_tanh_exp",
                      "test_engine_gradient")
LATER_THAN_1 = (T3, T4, T5)  # may say "fix + and * (Exercise 1) first"
LATER_THAN_2 = (T3, T4, T5)  # "fix backward (Exercise 2) first"
LATER_THAN_3 = (T4, T5)  # tanh may be built from / and -; engine_gradient's hidden softmax uses /
LATER_THAN_4 = (T5,)

ADD = "self.grad += out.grad\n            other.grad += out.grad"
MUL = "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad"

CASES = [
    # Exercise 1: mistakes
    Case(A1, "= in __add__", replace=(ADD, "self.grad = out.grad\n            other.grad = out.grad"), fails=T1,
         says=r"add with \+=", also_fails=LATER_THAN_1),
    Case(A1, "= in __mul__", replace=(MUL, "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad"),
         fails=T1, says=r"add with \+=", also_fails=LATER_THAN_1),
    Case(A1, "__mul__ forgets out.grad", replace=(MUL, "self.grad += other.data\n            other.grad += self.data"),
         fails=T1, says="multiply each local derivative by out.grad", also_fails=LATER_THAN_1),
    Case(A1, "__add__ forgets out.grad", replace=(ADD, "self.grad += 1.0\n            other.grad += 1.0"),
         fails=T1, says="multiply each local derivative by out.grad", also_fails=LATER_THAN_1),
    Case(A1, "__mul__ swaps the local derivatives", replace=(MUL, "self.grad += self.data * out.grad\n            other.grad += other.data * out.grad"),
         fails=T1, says=r"a.grad = p.grad \* b = -6", also_fails=LATER_THAN_1),
    Case(A1, "numbers not wrapped", replace=("        other = other if isinstance(other, Value) else Value(other)\n        out = Value(self.data + other.data",
                                            "        out = Value(self.data + other.data"),
         fails=T1, says="raised AttributeError.*wrap a plain number", also_fails=LATER_THAN_1),
    Case(A1, "_backward never attached", replace=("        out._backward = _backward\n        return out\n        ### END SOLUTION\n\n    def __mul__",
                                                 "        return out\n        ### END SOLUTION\n\n    def __mul__"),
         fails=T1, says="expect a.grad = b.grad = 2, got 0", also_fails=LATER_THAN_1),
    Case(A1, "children not recorded", replace=('out = Value(self.data * other.data, (self, other), "*")', 'out = Value(self.data * other.data)'),
         fails=T1, says="keep a and b as its children", also_fails=LATER_THAN_1),
    Case(A1, "returns a float", replace=("        out._backward = _backward\n        return out\n        ### END SOLUTION\n\n    def __radd__",
                                        "        out._backward = _backward\n        return out.data\n        ### END SOLUTION\n\n    def __radd__"),
         fails=T1, says="should be a Value, got float", also_fails=LATER_THAN_1),
    Case(A1, "__mul__ forgets other", replace=(MUL, "self.grad += other.data * out.grad"), fails=T1,
         says="b.grad = p.grad \\* a = 4", also_fails=LATER_THAN_1),
    Case(A1, "stub", replace=(MUL, "raise NotImplementedError()"), fails=T1, says="not implemented yet", also_fails=LATER_THAN_1),
    # Exercise 1: correct variants
    Case(A1, "a loop over (child, local derivative)", replace=(MUL, "for child, local in ((self, other.data), (other, self.data)):\n                child.grad += local * out.grad")),
    Case(A1, "captured floats, children as a list", replace=(
        ('out = Value(self.data * other.data, (self, other), "*")', 'x, y = self.data, other.data\n        out = Value(x * y, [self, other])'),
        (MUL, "self.grad += out.grad * y\n            other.grad += out.grad * x"))),
    Case(A1, "explicit isinstance branches", replace=(
        "        other = other if isinstance(other, Value) else Value(other)\n        out = Value(self.data + other.data",
        "        if not isinstance(other, Value):\n            other = Value(other)\n        out = Value(self.data + other.data")),
    Case(A1, "grad written as grad = grad + ...", replace=(ADD, "self.grad = self.grad + out.grad\n            other.grad = other.grad + out.grad")),
    Case(A1, "a static wrap helper", replace=(
        ("    def __add__(self, other):", "    @staticmethod\n    def _wrap(v):\n        return v if isinstance(v, Value) else Value(v)\n\n    def __add__(self, other):"),
        ("        other = other if isinstance(other, Value) else Value(other)\n        out = Value(self.data * other.data",
         "        other = Value._wrap(other)\n        out = Value(self.data * other.data"))),
]

STACK_TOPO = "stack.extend((child, False) for child in node._children if id(child) not in seen)"
BACKWARD_BODY = '''    ### BEGIN SOLUTION
    order, seen = [], set()
    stack = [(self, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._children if id(child) not in seen)
    self.grad = 1.0
    for node in reversed(order):
        node._backward()
    ### END SOLUTION'''


def backward_case(label, body, **kw):
    return Case(A2, label, code="@add_to_class(Value)\ndef backward(self):\n" + body, **kw)


CASES += [
    # Exercise 2: mistakes
    backward_case("no visited set", '''
    order, stack = [], [(self, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in node._children)
    self.grad = 1.0
    for node in reversed(order):
        node._backward()
''', fails=T2, says="2 times.*keep a set of the nodes already visited", also_fails=LATER_THAN_2),
    backward_case("breadth-first walk with a visited set", '''
    from collections import deque
    self.grad = 1.0
    queue, seen = deque([self]), {id(self)}
    while queue:
        node = queue.popleft()
        node._backward()
        for child in node._children:
            if id(child) not in seen:
                seen.add(id(child))
                queue.append(child)
''', fails=T2, says="breadth-first", also_fails=LATER_THAN_2),
    backward_case("breadth-first walk without a visited set", '''
    self.grad = 1.0
    queue = [self]
    while queue:
        node = queue.pop(0)
        node._backward()
        queue.extend(node._children)
''', fails=T2, says="times|breadth-first", also_fails=LATER_THAN_2),
    backward_case("recursive topological sort (micrograd)", '''
    topo, visited = [], set()
    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v._children:
                build(child)
            topo.append(v)
    build(self)
    self.grad = 1.0
    for v in reversed(topo):
        v._backward()
''', fails=T2, says="RecursionError.*explicit stack", also_fails=LATER_THAN_2),
    Case(A2, "forgets self.grad = 1", replace=("    self.grad = 1.0\n", ""), fails=T2, says="set self.grad = 1.0", also_fails=LATER_THAN_2),
    Case(A2, "self.grad = 1 after the walk", replace=(("    self.grad = 1.0\n", ""), ("        node._backward()\n", "        node._backward()\n    self.grad = 1.0\n")),
         fails=T2, says="set self.grad = 1.0 before", also_fails=LATER_THAN_2),
    Case(A2, "walks the order forwards", replace=("for node in reversed(order):", "for node in order:"), fails=T2,
         says="before that of", also_fails=LATER_THAN_2),
    backward_case("only the output's _backward", '''
    self.grad = 1.0
    self._backward()
''', fails=T2, says="0 times", also_fails=LATER_THAN_2),
    backward_case("pre-order depth-first search", '''
    order, seen, stack = [], set(), [self]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(node._children)
    self.grad = 1.0
    for node in order:
        node._backward()
''', fails=T2, says="before that of", also_fails=LATER_THAN_2),
    backward_case("visited nodes remembered by their data", '''
    order, seen = [], set()
    stack = [(self, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif node.data not in seen:
            seen.add(node.data)
            stack.append((node, True))
            stack.extend((child, False) for child in node._children)
    self.grad = 1.0
    for node in reversed(order):
        node._backward()
''', fails=T2, says="0 times.*not their data|2 times", also_fails=LATER_THAN_2),
    Case(A2, "stub", code="@add_to_class(Value)\ndef backward(self):\n    raise NotImplementedError()", fails=T2,
         says="backward is not implemented yet", also_fails=(T3, T4, T5)),
    # Exercise 2: correct variants
    backward_case("Kahn's algorithm on the reachable graph", '''
    nodes, stack, seen = [], [self], {id(self)}
    while stack:
        node = stack.pop()
        nodes.append(node)
        for child in node._children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    users = {id(n): 0 for n in nodes}
    for node in nodes:
        for child in node._children:
            users[id(child)] += 1
    self.grad = 1.0
    ready = [self]
    while ready:
        node = ready.pop()
        node._backward()
        for child in node._children:
            users[id(child)] -= 1
            if users[id(child)] == 0:
                ready.append(child)
'''),
    backward_case("post-order with child iterators and a set of nodes", '''
    order, visited = [], {self}
    stack = [(self, iter(self._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                stack.append((child, iter(child._children)))
                break
        else:
            stack.pop()
            order.append(node)
    self.grad = 1.0
    for node in order[::-1]:
        node._backward()
'''),
    backward_case("zeroes every grad first", '''
    order, seen = [], set()
    stack = [(self, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._children)
    for node in order:
        node.grad = 0.0
    self.grad = 1.0
    for node in reversed(order):
        node._backward()
'''),
    backward_case("visited list (identity membership)", '''
    order, visited = [], []
    stack = [(self, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif not any(node is v for v in visited[-3:]) and node not in visited:
            visited.append(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node._children)
    self.grad = 1.0
    while order:
        order.pop()._backward()
'''),
]

POW = "self.grad += k * self.data ** (k - 1) * out.grad"
CASES += [
    # Exercise 3: mistakes
    Case(A3, "k * a**k", replace=(POW, "self.grad += k * self.data ** k * out.grad"), fails=T3, says=r"k \* a\*\*\(k - 1\)", also_fails=LATER_THAN_3),
    Case(A3, "= in __pow__", replace=(POW, "self.grad = k * self.data ** (k - 1) * out.grad"), fails=T3, says=r"add with \+=", also_fails=LATER_THAN_3),
    Case(A3, "__pow__ forgets out.grad", replace=(POW, "self.grad += k * self.data ** (k - 1)"), fails=T3, says="by out.grad", also_fails=LATER_THAN_3),
    Case(A3, "__neg__ a new leaf", replace=("    return self * -1", "    return Value(-self.data)"), fails=T3, says="dn/dd = -1", also_fails=LATER_THAN_3),
    Case(A3, "__sub__ a new leaf", replace=("    return self + (-other)", "    other = other if isinstance(other, Value) else Value(other)\n    return Value(self.data - other.data)"),
         fails=T3, says="d/da", also_fails=LATER_THAN_3),
    Case(A3, "__rsub__ reversed", replace=("    return other + (-self)", "    return self + (-other)"), fails=T3, says="__rsub__", also_fails=LATER_THAN_3),
    Case(A3, "__rtruediv__ reversed", replace=("    return other * self**-1", "    return self * other**-1"), fails=T3, says="__rtruediv__", also_fails=LATER_THAN_3),
    Case(A3, "__truediv__ reversed", replace=("    return self * other**-1", "    return other * self**-1"), fails=T3, says=r"a\*\*2 / b - a at a = 4, b = 2 is 4", also_fails=LATER_THAN_3),
    Case(A3, "__pow__ data self.data * k", replace=('out = Value(self.data**k, (self,), f"**{k}")', 'out = Value(self.data * k, (self,), f"**{k}")'),
         fails=T3, says="data 9", also_fails=LATER_THAN_3),
    Case(A3, "__sub__ forgets the minus", replace=("    return self + (-other)", "    return self + other"), fails=T3, says="is 4, got", also_fails=LATER_THAN_3),
    Case(A3, "__pow__ stub", replace=('    assert isinstance(k, (int, float)), "only plain-number powers are supported"\n', "    raise NotImplementedError()\n"),
         fails=T3, says="not implemented yet", also_fails=LATER_THAN_3),
    # Exercise 3: correct variants
    Case(A3, "__neg__ and __sub__ as primitive nodes", replace=(
        ("    return self * -1", "    out = Value(-self.data, (self,), 'neg')\n\n    def _backward():\n        self.grad -= out.grad\n\n    out._backward = _backward\n    return out"),
        ("    return self + (-other)", "    other = other if isinstance(other, Value) else Value(other)\n    out = Value(self.data - other.data, (self, other), '-')\n\n"
                                     "    def _backward():\n        self.grad += out.grad\n        other.grad -= out.grad\n\n    out._backward = _backward\n    return out"))),
    Case(A3, "__truediv__ as a primitive node (quotient rule)", replace=(
        "    other = other if isinstance(other, Value) else Value(other)\n    return self * other**-1",
        "    other = other if isinstance(other, Value) else Value(other)\n    out = Value(self.data / other.data, (self, other), '/')\n\n"
        "    def _backward():\n        self.grad += out.grad / other.data\n        other.grad -= out.grad * self.data / other.data**2\n\n"
        "    out._backward = _backward\n    return out")),
    Case(A3, "math.pow and no wrap in __truediv__", replace=(
        ('out = Value(self.data**k, (self,), f"**{k}")', 'out = Value(math.pow(self.data, k), (self,), f"**{k}")'),
        ("    other = other if isinstance(other, Value) else Value(other)\n    return self * other**-1", "    return self * other**-1"))),
    Case(A3, "sub as self + other * -1, rsub as -self + other", replace=(
        ("    return self + (-other)", "    return self + other * -1"), ("    return other + (-self)", "    return -self + other"))),
    Case(A3, "__pow__ local derivative from out.data", replace=(POW, "self.grad += (k * out.data / self.data if self.data != 0 else k * self.data ** (k - 1)) * out.grad")),
]

TANH = "self.grad += (1 - t * t) * out.grad"
EXP = "self.grad += e * out.grad"
RELU = "self.grad += (self.data > 0) * out.grad"
CASES += [
    # Exercise 4: mistakes
    Case(A4, "tanh 1 - t", replace=(TANH, "self.grad += (1 - t) * out.grad"), fails=T4, says="local derivative of tanh", also_fails=LATER_THAN_4),
    Case(A4, "tanh forgets out.grad", replace=(TANH, "self.grad += 1 - t * t"), fails=T4, says="multiply the local derivative", also_fails=LATER_THAN_4),
    Case(A4, "= in tanh", replace=(TANH, "self.grad = (1 - t * t) * out.grad"), fails=T4, says=r"add with \+=", also_fails=LATER_THAN_4),
    Case(A4, "exp forgets out.grad", replace=(EXP, "self.grad += e"), fails=T4, says="multiply the local derivative", also_fails=LATER_THAN_4),
    Case(A4, "= in exp", replace=(EXP, "self.grad = e * out.grad"), fails=T4, says=r"add with \+=", also_fails=LATER_THAN_4),
    Case(A4, "exp derivative self.data", replace=(EXP, "self.grad += self.data * out.grad"), fails=T4, says="local derivative of exp", also_fails=LATER_THAN_4),
    Case(A4, "relu mask on the wrong side", replace=(RELU, "self.grad += (self.data < 0) * out.grad"), fails=T4, says="local derivative of relu", also_fails=LATER_THAN_4),
    Case(A4, "relu without a mask", replace=(RELU, "self.grad += out.grad"), fails=T4, says="local derivative of relu", also_fails=LATER_THAN_4),
    Case(A4, "relu a new leaf", replace=("    out = Value(max(self.data, 0.0), (self,), \"relu\")\n\n    def _backward():\n        self.grad += (self.data > 0) * out.grad\n\n    out._backward = _backward\n    return out",
                                         "    return Value(max(self.data, 0.0))"), fails=T4, says="relu", also_fails=LATER_THAN_4),
    Case(A4, "tanh derivative from the input", replace=(TANH, "self.grad += (1 - self.data**2) * out.grad"), fails=T4, says="local derivative of tanh", also_fails=LATER_THAN_4),
    Case(A4, "relu forgets out.grad", replace=(RELU, "self.grad += float(self.data > 0)"), fails=T4, says="multiply the local derivative", also_fails=LATER_THAN_4),
    Case(A4, "relu stub", replace=('    out = Value(max(self.data, 0.0), (self,), "relu")', "    raise NotImplementedError()"), fails=T4, says=r"relu\(\) is not implemented yet", also_fails=LATER_THAN_4),
    # Exercise 4: correct variants
    Case(A4, "tanh from exp, - and / (Karpathy)", replace=(
        '    t = math.tanh(self.data)\n    out = Value(t, (self,), "tanh")\n\n    def _backward():\n        self.grad += (1 - t * t) * out.grad\n\n    out._backward = _backward\n    return out',
        "    e = (2 * self).exp()\n    return (e - 1) / (e + 1)")),
    Case(A4, "tanh as (e^a - e^-a) / (e^a + e^-a)", replace=(
        '    t = math.tanh(self.data)\n    out = Value(t, (self,), "tanh")\n\n    def _backward():\n        self.grad += (1 - t * t) * out.grad\n\n    out._backward = _backward\n    return out',
        "    return (self.exp() - (-self).exp()) / (self.exp() + (-self).exp())")),
    Case(A4, "micrograd's relu", replace=(
        ('out = Value(max(self.data, 0.0), (self,), "relu")', "out = Value(0 if self.data < 0 else self.data, (self,), 'ReLU')"),
        (RELU, "self.grad += (out.data > 0) * out.grad"))),
    Case(A4, "relu subgradient 0.5 at the kink", replace=(RELU, "self.grad += (1.0 if self.data > 0 else 0.5 if self.data == 0 else 0.0) * out.grad")),
    Case(A4, "relu returns self when positive", replace=(
        '    out = Value(max(self.data, 0.0), (self,), "relu")\n\n    def _backward():\n        self.grad += (self.data > 0) * out.grad\n\n    out._backward = _backward\n    return out',
        "    return self if self.data > 0 else Value(0.0)")),
    Case(A4, "exp as math.e ** a, tanh derivative from out.data", replace=(
        ("    e = math.exp(self.data)", "    e = math.e ** self.data"), (TANH, "self.grad += (1 - out.data**2) * out.grad"))),
]

EG = "    values = [Value(v) for v in np.asarray(x, dtype=float)]\n    f(values).backward()\n    return np.array([v.grad for v in values])"
CASES += [
    # Exercise 5: mistakes
    Case(A5, "returns a list", replace=(EG, "    values = [Value(v) for v in np.asarray(x, dtype=float)]\n    f(values).backward()\n    return [v.grad for v in values]"),
         fails=T5, says="numpy array, got a list"),
    Case(A5, "returns the data", replace=("return np.array([v.grad for v in values])", "return np.array([v.data for v in values])"),
         fails=T5, says="call backward"),
    Case(A5, "forgets backward", replace=("    f(values).backward()\n", "    f(values)\n"), fails=T5, says="call backward"),
    Case(A5, "reads other Values", replace=("return np.array([v.grad for v in values])", "return np.array([Value(v).grad for v in np.asarray(x, dtype=float)])"),
         fails=T5, says="same Values you passed"),
    Case(A5, "calls f with numbers", replace=("    f(values).backward()", "    f(list(np.asarray(x, dtype=float))).backward()"),
         fails=T5, says="called with Values"),
    Case(A5, "array of Value objects", replace=("return np.array([v.grad for v in values])", "return np.array(values)"),
         fails=T5, says="numbers|float"),
    Case(A5, "shape (n, 1)", replace=("return np.array([v.grad for v in values])", "return np.array([[v.grad] for v in values])"),
         fails=T5, says=r"shape \(3,\)"),
    Case(A5, "writes into the caller's x", replace=(EG, "    x = np.asarray(x, dtype=float)\n    values = [Value(v) for v in x]\n    f(values).backward()\n"
                                                    "    x[:] = [v.grad for v in values]\n    return x"),
         fails=T5, says="changed its input in place"),
    Case(A5, "the output's grad", replace=(EG, "    values = [Value(v) for v in np.asarray(x, dtype=float)]\n    out = f(values)\n    out.backward()\n    return np.array([out.grad])"),
         fails=T5, says="shape"),
    Case(A5, "stub", replace=(EG, "    raise NotImplementedError()"), fails=T5, says="engine_gradient is not implemented yet"),
    # Exercise 5: correct variants
    Case(A5, "np.fromiter", replace=("return np.array([v.grad for v in values])", "return np.fromiter((v.grad for v in values), dtype=float, count=len(values))")),
    Case(A5, "float() per entry of a list", replace=(EG, "    values = [Value(float(v)) for v in list(x)]\n    out = f(values)\n    out.backward()\n"
                                                    "    return np.array([v.grad for v in values], dtype=np.float64)")),
    Case(A5, "a preallocated loop", replace=(EG, "    values = [Value(v) for v in np.asarray(x, dtype=float)]\n    f(values).backward()\n"
                                            "    grad = np.zeros(len(values))\n    for i, v in enumerate(values):\n        grad[i] = v.grad\n    return grad")),
    Case(A5, "map over values", replace=("return np.array([v.grad for v in values])", "return np.array(list(map(lambda v: v.grad, values)), dtype=float)")),
]
