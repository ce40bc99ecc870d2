"""Handles: stand-ins for the other interpreter's objects, and the tests' name resolution.

A :class:`Proxy` is what a test holds for a learner's function, class or object (and what the
learner's code holds for a test's lambda). Calling it, reading or setting an attribute, or
applying an operator sends one request over the bridge; the answer is data or another proxy.
There is one proxy per remote object at a time, so ``a is b`` and ``id(a)`` mean what they
mean in one process. Proxies hash by identity, never pickle, and show as their remote
``repr``. ``type(p).__name__`` is the remote type's name, so messages read as before.

A verdict is never the learner's to give: a proxy compares equal only to itself, and asking it
to order itself (``<``), for its truth (``if p``, ``assert p``) or for membership (``x in p``)
raises TypeError. A test compares data (numbers, arrays, attributes), which the trusted side
holds, so an object that says it equals anything, or a tiny "error" whose ``<`` always
answers True, cannot pass a test.

:class:`TrustedNamespace` is the trusted interpreter's globals: a name the tests' side does not
define (nor builtins) is looked up in the learner's namespace, through the open session.
"""
from __future__ import annotations

import builtins

import numpy as np

from .codec import BridgeError

__all__ = ["CallbackProxy", "Proxy", "TrustedNamespace"]

# Dunder attributes forwarded to the remote object; other dunders are this proxy's own (or absent),
# so numpy, IPython and copy probing a proxy do not each cost a round trip.
_FORWARDED_DUNDERS = frozenset(["__name__", "__qualname__", "__doc__", "__module__", "__wrapped__"])


class Proxy:
    """A handle to an object of the other interpreter (see the module docstring)."""

    __slots__ = ("_Proxy__peer", "_Proxy__number", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators instead of making object arrays
    _classes: dict[tuple, type] = {}

    @classmethod
    def make(cls, peer, number: int, type_name) -> Proxy:
        name = type_name if isinstance(type_name, str) and type_name.isidentifier() else "object"
        kind = cls._classes.get((cls, name))
        if kind is None:
            kind = cls._classes[(cls, name)] = type(name, (cls,), {"__slots__": (), "__module__": "notebook"})
        proxy = object.__new__(kind)
        object.__setattr__(proxy, "_Proxy__peer", peer)
        object.__setattr__(proxy, "_Proxy__number", number)
        return proxy

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in _FORWARDED_DUNDERS:
            raise AttributeError(name)
        return _ask(self, "getattr", name)

    def __setattr__(self, name, value):
        _ask(self, "setattr", name, value)

    def __delattr__(self, name):
        _ask(self, "delattr", name)

    def __call__(self, *args, **kwargs):
        return self.__peer.request("call", (self, *args), kwargs or None)

    def __repr__(self):
        try:
            text = _ask(self, "repr")
        except Exception:  # noqa: BLE001 - a repr must not raise inside an error message
            text = None
        return text if isinstance(text, str) else f"<{type(self).__name__} object in the notebook's kernel>"

    def __str__(self):
        text = _ask(self, "str")
        if not isinstance(text, str):
            raise TypeError("__str__ returned non-string")
        return text

    def __format__(self, spec):
        text = _ask(self, "format", spec)
        if not isinstance(text, str):
            raise TypeError("__format__ must return a str")
        return text

    def __bool__(self):
        raise _verdict_refused(self, "its truth")

    def __len__(self):
        return _typed(_ask(self, "len"), int, "__len__")

    def __iter__(self):
        return _ask(self, "iter")

    def __next__(self):
        return _ask(self, "next")

    def __contains__(self, item):
        raise _verdict_refused(self, "what it contains")

    def __getitem__(self, key):
        return _ask(self, "getitem", key)

    def __setitem__(self, key, value):
        _ask(self, "setitem", key, value)

    def __delitem__(self, key):
        _ask(self, "delitem", key)

    def __float__(self):
        return _typed(_ask(self, "float"), float, "__float__")

    def __int__(self):
        return _typed(_ask(self, "int"), int, "__int__")

    def __index__(self):
        return _typed(_ask(self, "index"), int, "__index__")

    def __complex__(self):
        return _typed(_ask(self, "complex"), complex, "__complex__")

    def __round__(self, ndigits=None):
        return _ask(self, "round") if ndigits is None else _ask(self, "round", ndigits)

    def __dir__(self):
        names = _ask(self, "dir")
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def __array__(self, dtype=None, copy=None):
        array = _ask(self, "array")
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{type(self).__name__} object cannot be converted to a numeric array")
        return array if dtype is None else array.astype(dtype)

    def __instancecheck__(self, obj):
        return _typed(self.__peer.request("isinstance", (obj, self)), bool, "__instancecheck__")

    def __subclasscheck__(self, cls):
        return _typed(self.__peer.request("issubclass", (cls, self)), bool, "__subclasscheck__")

    def __reduce_ex__(self, protocol):
        raise TypeError(f"an object of the notebook's kernel ({type(self).__name__}) cannot be pickled or copied")

    __hash__ = object.__hash__


def _verdict_refused(proxy, what: str) -> TypeError:
    return TypeError(f"a test may not ask an object of the notebook's kernel ({type(proxy).__name__}) for {what}: "
                     "that answer would be the notebook's to choose. Test its data instead (a number, an array, "
                     "an attribute such as .data)")


def _order_refused(proxy, other):
    raise _verdict_refused(proxy, "how it compares")


def _ask(proxy, op: str, *args):
    return proxy._Proxy__peer.request(op, (proxy, *args))


def _typed(value, kind: type, method: str):
    if type(value) is not kind and not (kind is int and type(value) is bool) and not (kind is float and type(value) is int):
        raise TypeError(f"{method} returned {type(value).__name__}, not {kind.__name__}")
    return kind(value) if kind is float else value


def _binary(op: str):
    def forward(self, other):
        return _ask(self, op, other)

    def reflected(self, other):
        return self._Proxy__peer.request(op, (other, self))

    return forward, reflected


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"):
    _op = _name + "_" if _name in ("and", "or") else _name
    _forward, _reflected = _binary(_op)
    setattr(Proxy, f"__{_name}__", _forward)
    setattr(Proxy, f"__r{_name}__", _reflected)
    setattr(Proxy, f"__i{_name}__", _binary("i" + _name)[0])
for _name in ("lt", "le", "gt", "ge"):
    setattr(Proxy, f"__{_name}__", lambda self, other: _order_refused(self, other))
Proxy.__eq__ = lambda self, other: NotImplemented  # identity, as for any object without __eq__
Proxy.__ne__ = lambda self, other: NotImplemented
for _name in ("neg", "pos", "abs", "invert"):
    setattr(Proxy, f"__{_name}__", lambda self, _op=_name: _ask(self, _op))
Proxy.__divmod__, Proxy.__rdivmod__ = _binary("divmod")
Proxy.__hash__ = object.__hash__


class CallbackProxy(Proxy):
    """What the learner's code holds for a test's object: it answers like the object itself.

    Only the tests' side refuses verdicts from proxies; the learner's code may ask a test's
    lambda anything an object answers (its truth, comparisons, membership).
    """

    __slots__ = ()

    def __bool__(self):
        return _typed(_ask(self, "truth"), bool, "__bool__")

    def __contains__(self, item):
        return _typed(_ask(self, "contains", item), bool, "__contains__")


for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(CallbackProxy, f"__{_name}__", _binary(_name)[0])
CallbackProxy.__hash__ = object.__hash__


class TrustedNamespace(dict):
    """The trusted interpreter's globals: unknown names come from the learner's namespace.

    ``session`` is a callable returning the open bridge session (or None between tests). A
    builtin is never looked up remotely: ``abs`` and ``len`` are the trusted interpreter's own.
    """

    def __init__(self, *args, session=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._session = session

    def __missing__(self, name):
        if not isinstance(name, str) or name.startswith("__") or hasattr(builtins, name):
            raise KeyError(name)
        session = self._session() if self._session is not None else None
        if session is None:
            raise KeyError(name)
        try:
            return session.lookup(name)
        except NameError:
            raise KeyError(name) from None
        except BridgeError as error:
            raise NameError(f"name {name!r} is not defined here, and the notebook's kernel could not be asked: "
                            f"{error}") from None
