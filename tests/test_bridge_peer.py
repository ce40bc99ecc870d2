"""Does the bridge carry data both ways, keep identity, mutation and errors, and survive a hostile peer?

The learner's side runs in a real subprocess (``gradelib.bridge.agent.serve``), the tests' side
is this process, as in grading.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gradelib.bridge.codec import BridgeError
from gradelib.bridge.peer import LearnerError
from gradelib.bridge.proxy import Proxy
from gradelib.bridge.trusted import Session

LEARNER_CODE = textwrap.dedent('''
    import os, time
    import numpy as np

    def echo(value):
        return value

    def copy(value):
        return value.copy()

    def kind(value):
        return type(value).__name__, (value.dtype.str if hasattr(value, "dtype") else None)

    def apply(f, *args):
        return f(*args)

    class Value:
        def __init__(self, data, children=()):
            self.data, self.grad, self._children = float(data), 0.0, tuple(children)
        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            return Value(self.data + other.data, (self, other))
        __radd__ = __add__
        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            return Value(self.data * other.data, (self, other))
        __rmul__ = __mul__
        def __repr__(self):
            return f"Value({self.data:g})"

    class Liar(float):
        def __eq__(self, other):
            return True
        def __lt__(self, other):
            return True
        __hash__ = float.__hash__

    class LyingArray(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, bool)

    def liar():
        return Liar(0.0)

    class Agreeable:
        def __eq__(self, other): return True
        def __lt__(self, other): return True
        def __sub__(self, other): return self
        def __abs__(self): return self
        def __bool__(self): return True
        def __contains__(self, item): return True
        __hash__ = object.__hash__

    def agreeable():
        return Agreeable()

    def truth_of(f):
        return bool(f), f == f, f(2) < 3

    def lying_array():
        return np.zeros(3).view(LyingArray)

    def relu_in_place(x):
        x[x < 0] = 0
        return x

    def tail_view(x):
        return x.reshape(-1)[1:]

    def append(items, value):
        items.append(value)

    def update(params):
        params["w"] -= 1.0
        params["b"] = np.zeros(2)

    def stub():
        raise NotImplementedError()

    class OwnError(Exception):
        pass

    def own():
        raise OwnError("mine")

    def die():
        os._exit(3)

    def hang():
        while True:
            time.sleep(0.01)

    def swallow(f):
        try:
            f()
        except Exception as error:
            return "caught " + type(error).__name__

    def huge():
        return np.zeros(40_000_000)  # 320 MB: over the bridge's limit

    def objects():
        return np.array([1, "a"], dtype=object)

    def peek(f):
        return f._secret

    def write(f):
        f.value = 1

    def module_of(f):
        return f.random
''')

SERVER = textwrap.dedent('''
    import sys
    from gradelib.bridge.agent import serve
    namespace = {}
    exec(sys.stdin.read(), namespace)
    serve(sys.argv[1], sys.argv[2], namespace)
''')


class Learner:
    """A learner process serving LEARNER_CODE, and the tests' end of its connection."""

    def __init__(self, folder):
        token = secrets.token_hex(8)
        self.session = Session(str(folder / f"b{token}.sock"), token)
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, self.session.path, token], stdin=subprocess.PIPE,
                                     text=True)
        self.proc.stdin.write(LEARNER_CODE)
        self.proc.stdin.close()

    def __getattr__(self, name):
        return self.session.lookup(name)

    def close(self):
        self.session.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def learner(tmp_path):
    process = Learner(tmp_path)
    yield process
    process.close()


DATA = [
    None, True, False, 0, -7, 2**80, 1.5, float("inf"), "text", "ünïcødé ∂", 1 + 2j, (), (1, "a", None),
    [1, [2, [3.0]]], {"a": 1, 2: "b", (1, 2): [3]}, {"nested": {"deeper": (1.0, [True])}},
]
ARRAYS = [np.zeros((2, 3)), np.arange(5, dtype=np.int8), np.arange(4, dtype=np.uint64), np.array(True),
          np.ones(3, np.float16), np.ones(3, np.float32), np.array([1 + 1j], np.complex64), np.zeros((0, 4)),
          np.arange(12.0).reshape(3, 4)[:, 1], np.arange(3, dtype=">f8")]
SCALARS = [np.float64(1.5), np.float32(2.5), np.int64(3), np.int32(-1), np.bool_(True), np.uint8(7)]


@pytest.mark.parametrize("value", DATA, ids=repr)
def test_plain_data_crosses_both_ways_unchanged(learner, value):
    """Does each kind of data come back equal, of the same type, through the learner and a callback?"""
    back = learner.echo(value)
    assert back == value and type(back) is type(value)
    through = learner.apply(lambda v: v, value)  # the learner calls the test's lambda with it
    assert through == value and type(through) is type(value)


def test_nan_crosses(learner):
    assert np.isnan(learner.echo(float("nan")))


@pytest.mark.parametrize("array", ARRAYS, ids=lambda a: f"{a.dtype.str}{a.shape}")
def test_arrays_cross_as_plain_arrays_with_dtype_and_shape(learner, array):
    """Do numeric and bool arrays keep dtype (native byte order), shape and values, both ways?"""
    assert learner.echo(array) is array  # a result that is the argument is the argument
    back = learner.copy(array)
    assert type(back) is np.ndarray and back.shape == array.shape
    assert back.dtype == array.dtype.newbyteorder("=") and np.array_equal(back, array)
    assert not np.shares_memory(back, array)
    assert learner.kind(array) == ("ndarray", array.dtype.newbyteorder("<").str)


@pytest.mark.parametrize("scalar", SCALARS, ids=lambda s: type(s).__name__)
def test_numpy_scalars_keep_their_type(learner, scalar):
    back = learner.echo(scalar)
    assert type(back) is type(scalar) and back == scalar


def test_lying_subclasses_arrive_as_plain_values(learner):
    """Does a float or ndarray subclass that lies in comparisons arrive as a plain float or array?"""
    value = learner.liar()
    assert type(value) is float and not (value == 1.0) and not (value < -1)
    array = learner.lying_array()
    assert type(array) is np.ndarray and not (array == 1).any()


def test_a_learner_object_cannot_give_a_verdict(learner):
    """An object that says it equals, is below or contains anything: the test never takes its word."""
    agreeable = learner.agreeable()
    assert not (agreeable == 6.0) and agreeable != 6.0 and agreeable == agreeable
    for verdict in (lambda: abs(agreeable - 6.0) < 1e-6, lambda: bool(agreeable), lambda: 3 in agreeable,
                    lambda: agreeable > 1):
        with pytest.raises(TypeError, match="the notebook's to choose"):
            verdict()


def test_the_learners_code_may_ask_a_tests_object_anything(learner):
    assert learner.truth_of(lambda v: v) == (True, True, True)


def test_object_arrays_cross_as_handles_not_data(learner):
    handle = learner.objects()
    assert isinstance(handle, Proxy) and len(handle) == 2


def test_handles_keep_identity_type_name_and_operators(learner):
    """One proxy per learner object: `is`, id() and isinstance mean what they mean in one process."""
    Value = learner.Value
    a = Value(2.0)
    c = a * -3 + 10
    assert type(c).__name__ == "Value" and isinstance(c, Value) and not isinstance(4.0, Value)
    assert c.data == 4.0 and (3 + a).data == 5.0 and (3 * a).data == 6.0
    assert set(map(id, (a * 2)._children)) >= {id(a)}
    assert learner.echo(a) is a
    c.grad = 1.5
    assert c.grad == 1.5 and repr(c) == "Value(4)" and f"{c}" == "Value(4)"


def test_callbacks_nest_both_ways(learner):
    """A test's lambda, called by the learner, may itself use learner objects."""
    Value = learner.Value
    result = learner.apply(lambda v: (v * 2 + 1).data, Value(3.0))
    assert result == 7.0


def test_a_stub_raises_not_implemented_error_as_itself(learner):
    with pytest.raises(NotImplementedError):
        learner.stub()


def test_a_learner_exception_keeps_its_name_and_message(learner):
    with pytest.raises(LearnerError, match="mine") as caught:
        learner.own()
    assert type(caught.value).__name__ == "OwnError"


def test_the_tests_own_exception_comes_back_as_the_same_object(learner):
    """An AssertionError raised in a test's callback, passed up through learner code, is the test's own."""
    mine = AssertionError("the test's verdict")

    def fail():
        raise mine

    with pytest.raises(AssertionError) as caught:
        learner.apply(fail)
    assert caught.value is mine
    assert learner.swallow(fail) == "caught AssertionError"


def test_in_place_changes_are_copied_back_and_results_alias_arguments(learner):
    """relu in place returns its argument itself; a view stays a view; lists and dicts are updated."""
    x = np.array([-1.0, 2.0, -3.0])
    out = learner.relu_in_place(x)
    assert out is x and x.tolist() == [0.0, 2.0, 0.0]
    y = np.arange(6.0).reshape(2, 3)
    tail = learner.tail_view(y)
    assert np.shares_memory(tail, y) and tail.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    items = [1]
    assert learner.append(items, 2) is None and items == [1, 2]
    w = np.ones(2)
    params = {"w": w, "b": np.ones(2)}
    learner.update(params)
    assert params["w"] is w and w.tolist() == [0.0, 0.0] and params["b"].tolist() == [0.0, 0.0]


def test_unchanged_arguments_are_left_alone(learner):
    x = np.arange(3.0)
    x.flags.writeable = False  # a copy-back would fail on a read-only array
    assert learner.echo(x).tolist() == [0.0, 1.0, 2.0]


def test_the_learner_cannot_reach_into_the_tests_objects(learner):
    """Private attributes, writes and modules of the test's objects are refused."""
    def f():
        return 1
    f._secret = "hidden"
    with pytest.raises(AttributeError):
        learner.peek(f)
    with pytest.raises(TypeError):
        learner.write(f)
    with pytest.raises(AttributeError):
        learner.module_of(np)


def test_an_oversize_result_is_an_error_not_a_crash(learner):
    with pytest.raises(LearnerError, match="over the bridge's limit"):
        learner.huge()
    assert learner.echo(1) == 1  # the connection is still usable


def test_a_learner_that_dies_mid_call_fails_the_call(learner):
    with pytest.raises(BridgeError, match="stopped answering"):
        learner.die()
    with pytest.raises(BridgeError):
        learner.echo(1)


def test_a_hanging_call_ends_with_the_tests_timeout(learner):
    """An interrupt (the cell timeout) ends the waiting; the connection is then closed for good."""
    echo = learner.echo
    previous = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            learner.hang()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(BridgeError):
        echo(1)
    learner.proc.kill()


def test_names_the_learner_does_not_define_are_name_errors(learner):
    with pytest.raises(NameError):
        learner.session.lookup("no_such_name")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_deep_chain_of_operator_calls_works(learner):
    """Unit 02's deep chains: thousands of calls on one connection, no recursion on either side."""
    Value = learner.Value
    z = x = Value(1.0)
    for _ in range(3000):
        z = z * 1.0001
    assert abs(z.data - 1.0001**3000) < 1e-9 and x.data == 1.0


def test_a_tests_strict_numpy_settings_hold_in_the_learners_call(learner):
    """Does an overflow in the learner's code raise FloatingPointError under the test's
    np.errstate(over="raise"), as it does in one process (gradelib.testing.call_strict)?"""
    exp = learner.np.exp
    with np.errstate(over="ignore"):
        assert exp(1000.0) == np.inf  # nothing asked: numpy's default in the learner's process
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError, match="overflow"):
            exp(1000.0)
        assert exp(-1000.0) == 0.0  # only what the test made strict raises: underflow does not
