"""What one side does for the other: the operations a bridge request may ask for.

The learner's side serves every operation on its own objects. The trusted side serves the
notebook only what a test hands it: calling it, operators on it, and reading its public
attributes, never a module's and never through a private name, and writing none.
"""
from __future__ import annotations

import operator
import types

import numpy as np

__all__ = ["perform"]

_UNARY = {
    "neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert,
    "truth": operator.truth, "len": len, "iter": iter, "next": next, "repr": repr, "str": str,
    "float": float, "int": int, "index": operator.index, "complex": complex, "round": round, "hash": hash,
}
_BINARY = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor", "lshift", "rshift",
    "iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow", "imatmul", "iand", "ior", "ixor", "ilshift",
    "irshift", "lt", "le", "eq", "ne", "gt", "ge", "getitem", "contains")}
_BINARY.update({"format": format, "divmod": divmod, "round": round})
_LEARNER_ONLY = {
    "setitem": operator.setitem, "delitem": operator.delitem, "setattr": setattr, "delattr": delattr,
    "isinstance": lambda obj, cls: isinstance(obj, cls), "issubclass": lambda sub, cls: issubclass(sub, cls),
    "dir": lambda obj: sorted(map(str, dir(obj))),
}


def perform(op, args: list, kwargs: dict, *, trusted: bool, namespace=None):
    """Run request ``op`` on ``args`` (the target first) for the other side; its result."""
    if op == "lookup":
        if namespace is None or len(args) != 1 or not isinstance(args[0], str):
            raise NameError("no names are served here")
        try:
            return namespace[args[0]]
        except KeyError:
            raise NameError(f"name {args[0]!r} is not defined") from None
    if not args:
        raise TypeError(f"the bridge operation {str(op)[:30]!r} needs a target")
    target, rest = args[0], args[1:]
    if op == "call":
        return target(*rest, **kwargs)
    if op == "getattr" and len(rest) == 1 and isinstance(rest[0], str):
        return _public_attribute(target, rest[0]) if trusted else getattr(target, rest[0])
    if op in _UNARY and not rest:
        return _UNARY[op](target)
    if op in _BINARY and len(rest) == 1:
        return _BINARY[op](target, rest[0])
    if op == "array" and not rest and not trusted:
        return np.asarray(target)
    if op in _LEARNER_ONLY and not trusted:
        return _LEARNER_ONLY[op](target, *rest)
    raise TypeError(f"the bridge does not allow {str(op)[:30]!r} on the test's objects" if trusted
                    else f"unknown bridge operation {str(op)[:30]!r}")


def _public_attribute(target, name: str):
    if name.startswith("_") or isinstance(target, types.ModuleType):
        raise AttributeError(f"the notebook may not read {name!r} of an object the test passed it")
    value = getattr(target, name)
    if isinstance(value, types.ModuleType):
        raise AttributeError(f"the notebook may not read {name!r} of an object the test passed it")
    return value
