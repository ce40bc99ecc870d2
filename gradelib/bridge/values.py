"""Values to and from the wire: data by copy, every other object by handle, aliasing kept.

An :class:`Encoder` turns one message's values into JSON and blobs (see ``codec`` for the
tags); a :class:`Decoder` rebuilds them on the other side as plain Python and numpy objects,
or proxies for the sender's objects. Both walk a message in the same pre-order, so the
mutable objects (arrays, lists, dicts) of a request are numbered alike on both sides: that
number is how a response says "this is your argument 2" or "a view of it", and how the
in-place changes the callee made to argument 2 are copied back to the caller's object.
"""
from __future__ import annotations

import numbers

import numpy as np

from .codec import ARRAY_DTYPES, MAX_DEPTH, BridgeError, MalformedMessage, pack, unpack, unpack_scalar, view_of

__all__ = ["Decoder", "Encoder", "Snapshot"]

_PLAIN = (type(None), bool, int, float, str)


class Encoder:
    """Encode the values of one message.

    ``peer`` exports objects that are not data and recognises its own proxies; ``args`` maps
    id(obj) -> number for the mutable arguments of the request being answered (responses only),
    ``contiguous`` the numbers of those that were C-contiguous at the caller (views allowed).
    """

    def __init__(self, peer, args: dict | None = None, contiguous: frozenset = frozenset()):
        self.peer, self.args, self.contiguous = peer, args or {}, contiguous
        self.blobs, self.offset = [], [0]
        self.memo = {}  # id(obj) -> number of a mutable already in this message
        self.sent = []  # this message's mutables, in order: what a response's "a" tags mean
        self._keep = []  # keeps encoded objects alive so their ids stay unique

    def encode(self, value, depth: int = 0):
        kind = type(value)
        if kind in _PLAIN:
            return value
        if depth > MAX_DEPTH:
            raise BridgeError(f"a value nested more than {MAX_DEPTH} levels deep cannot cross the bridge")
        if isinstance(value, self.peer.proxy_class):
            return self.peer.reference(value)
        key = id(value)
        if key in self.args:
            return {"$": "a", "i": self.args[key]}
        if key in self.memo:
            return {"$": "m", "i": self.memo[key]}
        if isinstance(value, np.ndarray):
            return self._array(value)
        if isinstance(value, np.generic):
            return self._scalar(value)
        if isinstance(value, (list, dict)):
            self._register(value)
            if isinstance(value, list):
                return [self.encode(item, depth + 1) for item in value]
            items = list(value.items())
            return {"$": "d", "k": [self.encode(k, depth + 1) for k, _ in items],
                    "v": [self.encode(v, depth + 1) for _, v in items]}
        if isinstance(value, tuple):
            return {"$": "t", "v": [self.encode(item, depth + 1) for item in value]}
        if isinstance(value, bool):  # a bool subclass cannot exist; numbers below
            return bool(value)
        if isinstance(value, complex):
            return {"$": "c", "v": [value.real, value.imag]}
        if isinstance(value, (int, float, str)):
            return (int if isinstance(value, int) else float if isinstance(value, float) else str)(value)
        return self.peer.handle_for(value)

    def _register(self, value):
        self.memo[id(value)] = len(self.sent)
        self.sent.append(value)
        self._keep.append(value)

    def _array(self, array: np.ndarray):
        view = self._view(array)
        if view is not None:
            return view
        if array.dtype.str.replace(">", "<") not in ARRAY_DTYPES and array.dtype.str not in ARRAY_DTYPES:
            return self.peer.handle_for(array)
        self._register(array)
        return pack(np.asarray(array), self.blobs, self.offset)

    def _scalar(self, value: np.generic):
        array = np.asarray(value)
        if array.dtype.str not in ARRAY_DTYPES:
            if isinstance(value, numbers.Real):
                return float(value)
            return self.peer.handle_for(value)
        form = pack(array, self.blobs, self.offset)
        return {"$": "x", "d": form["d"], "o": form["o"]}

    def _view(self, array: np.ndarray):
        """A response's array that is a view of a C-contiguous argument becomes a view there too."""
        base = array.base
        while base is not None:
            number = self.args.get(id(base))
            if number is not None and isinstance(base, np.ndarray):
                if not (base.flags.c_contiguous and number in self.contiguous):
                    return None
                if array.dtype.str not in ARRAY_DTYPES:
                    return None
                start = array.__array_interface__["data"][0] - base.__array_interface__["data"][0]
                return {"$": "v", "i": number, "d": array.dtype.str, "s": list(array.shape),
                        "t": list(array.strides), "o": int(start)}
            base = getattr(base, "base", None)
        return None


class Snapshot:
    """What a request's mutable arguments were on arrival, to tell which ones the call changed."""

    def __init__(self, mutables: list, blob: bytearray, forms: list):
        self.items = []
        for obj, form in zip(mutables, forms):
            if isinstance(obj, np.ndarray):
                start = form["o"]
                self.items.append((obj, obj.shape, bytes(blob[start:start + obj.nbytes])))
            elif isinstance(obj, list):
                self.items.append((obj, None, list(obj)))
            else:
                self.items.append((obj, None, list(obj.items())))

    def changed(self) -> list[int]:
        numbers_ = []
        for number, (obj, shape, before) in enumerate(self.items):
            if isinstance(obj, np.ndarray):
                differs = obj.shape != shape or obj.tobytes() != before
            elif isinstance(obj, list):
                differs = len(obj) != len(before) or any(a is not b for a, b in zip(obj, before))
            else:
                now = list(obj.items())
                differs = len(now) != len(before) or any(
                    a[0] is not b[0] or a[1] is not b[1] for a, b in zip(now, before))
            if differs:
                numbers_.append(number)
        return numbers_


class Decoder:
    """Decode the values of one message from ``peer``; ``sent`` resolves a response's "a"/"v" tags."""

    def __init__(self, peer, blob: bytearray, sent: list | None = None):
        self.peer, self.blob, self.sent = peer, blob, sent
        self.mutables, self.forms = [], []  # this message's arrays, lists and dicts, in order

    def decode(self, form, depth: int = 0):
        kind = type(form)
        if kind in _PLAIN:
            return form
        if depth > MAX_DEPTH:
            raise MalformedMessage(f"a value nested more than {MAX_DEPTH} levels deep")
        if kind is list:
            out = []
            self._record(out, None)
            out.extend(self.decode(item, depth + 1) for item in form)
            return out
        if kind is not dict:
            raise MalformedMessage("a value of an unknown kind")
        tag = form.get("$")
        if tag == "n":
            array = unpack(form, self.blob)
            self._record(array, form)
            return array
        if tag == "t":
            return tuple(self.decode(item, depth + 1) for item in self._list(form, "v"))
        if tag == "d":
            keys, values = self._list(form, "k"), self._list(form, "v")
            if len(keys) != len(values):
                raise MalformedMessage("a dict with unequal keys and values")
            out = {}
            self._record(out, None)
            for k, v in zip(keys, values):
                key = self.decode(k, depth + 1)
                try:
                    out[key] = self.decode(v, depth + 1)
                except TypeError:
                    raise MalformedMessage("a dict with an unhashable key") from None
            return out
        if tag == "x":
            return unpack_scalar(form, self.blob)
        if tag == "c":
            parts = self._list(form, "v")
            if len(parts) != 2 or not all(type(p) in (int, float) for p in parts):
                raise MalformedMessage("an invalid complex number")
            return complex(*parts)
        if tag == "h":
            return self.peer.proxy_for(self._index(form), form.get("n"))
        if tag == "r":
            return self.peer.exported(self._index(form))
        if tag == "m":
            index = self._index(form)
            if index >= len(self.mutables):
                raise MalformedMessage("a reference to a value not yet in the message")
            return self.mutables[index]
        if tag in ("a", "v"):
            index = self._index(form)
            if self.sent is None or index >= len(self.sent):
                raise MalformedMessage("a reference to an argument that was not sent")
            target = self.sent[index]
            if tag == "a":
                return target
            if not isinstance(target, np.ndarray):
                raise MalformedMessage("a view of an argument that is not an array")
            return view_of(target, form)
        raise MalformedMessage(f"a value with the unknown tag {str(tag)[:10]!r}")

    def _record(self, obj, form):
        self.mutables.append(obj)
        self.forms.append(form)

    @staticmethod
    def _list(form: dict, key: str) -> list:
        value = form.get(key)
        if not isinstance(value, list):
            raise MalformedMessage(f"a value without its {key!r} list")
        return value

    @staticmethod
    def _index(form: dict) -> int:
        index = form.get("i")
        if type(index) is not int or index < 0:
            raise MalformedMessage("an invalid object number")
        return index
