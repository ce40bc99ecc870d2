"""The bridge's wire format: data only, validated, size-limited, no pickle.

A frame is ``!II`` (JSON length, blob length), a UTF-8 JSON header, then the raw bytes of every
array in the message, back to back. Inside the JSON, plain JSON values are themselves (lists
are lists, numbers keep their int/float kind, NaN and infinities allowed); everything else is
an object tagged by ``"$"``:

    {"$": "t", "v": [...]}                              a tuple
    {"$": "d", "k": [...], "v": [...]}                  a dict (keys of any data type)
    {"$": "n", "d": "<f8", "s": [2, 3], "o": 0, "c": 1} an ndarray: dtype, shape, blob offset,
                                                        C-contiguous at the sender (views allowed)
    {"$": "x", "d": "<f4", "o": 48}                      a numpy scalar
    {"$": "h", "i": 7, "n": "Value"}                    a handle: the sender's object 7, of type Value
    {"$": "r", "i": 7}                                  the receiver's own object 7, sent back
    {"$": "a", "i": 2}                                  the request's mutable argument number 2
    {"$": "v", "i": 2, "d": "<f8", "s": [3], "t": [8], "o": 0}
                                                        a view into that argument (byte offset o)

Every frame is checked before use (sizes, depth, dtypes, shapes, offsets); a frame that breaks
a rule raises :class:`MalformedMessage` and the connection is dropped.
"""
from __future__ import annotations

import json
import struct

import numpy as np

__all__ = ["BridgeError", "MalformedMessage", "MAX_BLOB", "MAX_DEPTH", "MAX_JSON", "ARRAY_DTYPES",
           "check_dtype", "pack", "read_frame", "write_frame"]

MAX_JSON = 16 * 1024 * 1024  # bytes of JSON per message
MAX_BLOB = 256 * 1024 * 1024  # bytes of array data per message
MAX_DEPTH = 64  # nesting of containers
MAX_NDIM = 32
_HEADER = struct.Struct("!II")
_to_json = json.JSONEncoder(separators=(",", ":"), allow_nan=True).encode

# numeric and bool dtypes, little-endian or byte-order-free, as numpy spells them in dtype.str
ARRAY_DTYPES = frozenset(
    ["|b1", "|i1", "|u1"]
    + [f"<{kind}{size}" for kind in "iu" for size in (2, 4, 8)]
    + ["<f2", "<f4", "<f8", "<c8", "<c16"]
)


class BridgeError(RuntimeError):
    """The bridge between the test and the notebook's kernel failed (not the learner's code)."""


class MalformedMessage(BridgeError):
    """A frame that breaks the format's rules: too large, not JSON, or an invalid value."""


def check_dtype(text) -> np.dtype:
    if not isinstance(text, str) or text not in ARRAY_DTYPES:
        raise MalformedMessage(f"array dtype {str(text)[:20]!r} is not a plain numeric or bool dtype")
    return np.dtype(text)


def write_frame(sock, header: dict, blobs: list) -> None:
    """Send one message: the JSON header and the arrays' bytes (``blobs``, in offset order)."""
    try:
        text = _to_json(header).encode()
    except (ValueError, TypeError) as error:  # an int too long to print, say
        raise BridgeError(f"a value that cannot cross the bridge ({error})"[:200]) from None
    size = sum(len(b) for b in blobs)
    if len(text) > MAX_JSON or size > MAX_BLOB:
        raise BridgeError(f"a message of {len(text) + size} bytes is over the bridge's limit")
    sock.sendall(b"".join([_HEADER.pack(len(text), size), text, *blobs]) if blobs else _HEADER.pack(len(text), 0) + text)


class FrameReader:
    """Reads frames from a socket with as few system calls as possible (one, for a small message)."""

    def __init__(self, sock, chunk: int = 1 << 16):
        self.sock, self.chunk = sock, chunk
        self.buffer = bytearray()

    def _fill(self, n: int) -> None:
        have = len(self.buffer)
        if n - have > self.chunk:  # a large message: read it in place, exactly
            self.buffer.extend(bytes(n - have))
            with memoryview(self.buffer) as view:
                while have < n:
                    count = self.sock.recv_into(view[have:n])
                    if not count:
                        raise EOFError("the other side closed the connection")
                    have += count
            return
        while len(self.buffer) < n:
            data = self.sock.recv(self.chunk)
            if not data:
                raise EOFError("the other side closed the connection")
            self.buffer += data

    def read(self) -> tuple[dict, bytearray]:
        """One message: its JSON header (a dict) and its blob; MalformedMessage if invalid."""
        self._fill(_HEADER.size)
        json_size, blob_size = _HEADER.unpack_from(self.buffer)
        if json_size > MAX_JSON or blob_size > MAX_BLOB:
            raise MalformedMessage(f"a message of {json_size + blob_size} bytes is over the bridge's limit")
        end = _HEADER.size + json_size + blob_size
        self._fill(end)
        text = bytes(self.buffer[_HEADER.size:_HEADER.size + json_size])
        blob = self.buffer[_HEADER.size + json_size:end] if blob_size else bytearray()
        del self.buffer[:end]
        try:
            header = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            raise MalformedMessage(f"a message that is not JSON ({type(error).__name__})") from None
        if not isinstance(header, dict):
            raise MalformedMessage("a message that is not a JSON object")
        return header, blob


def read_frame(sock) -> tuple[dict, bytearray]:
    """One message from a socket that carries nothing else yet (the hello)."""
    return FrameReader(sock, chunk=1).read()


def pack(array: np.ndarray, blobs: list, offset: list) -> dict:
    """The JSON form of an array whose bytes are appended to ``blobs`` (``offset`` = [bytes so far])."""
    contiguous = bool(array.flags.c_contiguous)
    data = array if contiguous else array.copy(order="C")
    if data.dtype.byteorder == ">":
        data = data.astype(data.dtype.newbyteorder("<"))
    raw = data.tobytes()
    form = {"$": "n", "d": data.dtype.str, "s": list(data.shape), "o": offset[0], "c": int(contiguous)}
    blobs.append(raw)
    offset[0] += len(raw)
    return form


def unpack(form: dict, blob: bytearray) -> np.ndarray:
    """A fresh, writeable, plain ndarray from its JSON form and the message's blob."""
    dtype = check_dtype(form.get("d"))
    shape = form.get("s")
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(type(n) is int and 0 <= n <= MAX_BLOB for n in shape)):
        raise MalformedMessage("an array with an invalid shape")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    start = form.get("o")
    nbytes = count * dtype.itemsize
    if type(start) is not int or start < 0 or start + nbytes > len(blob):
        raise MalformedMessage("an array whose bytes lie outside the message")
    return np.frombuffer(blob, dtype=dtype, count=count, offset=start).reshape(tuple(shape)).copy()


def unpack_scalar(form: dict, blob: bytearray):
    dtype = check_dtype(form.get("d"))
    start = form.get("o")
    if type(start) is not int or start < 0 or start + dtype.itemsize > len(blob):
        raise MalformedMessage("a scalar whose bytes lie outside the message")
    return np.frombuffer(blob, dtype=dtype, count=1, offset=start)[0]


def view_of(base: np.ndarray, form: dict) -> np.ndarray:
    """A view into ``base`` (a C-contiguous array the receiver sent) described by ``form``."""
    dtype = check_dtype(form.get("d"))
    shape, strides, offset = form.get("s"), form.get("t"), form.get("o")
    ok = (isinstance(shape, list) and isinstance(strides, list) and len(shape) == len(strides) <= MAX_NDIM
          and all(type(n) is int and 0 <= n for n in shape) and all(type(n) is int for n in strides)
          and type(offset) is int and base.flags.c_contiguous)
    if not ok:
        raise MalformedMessage("an invalid view of an argument")
    try:  # numpy checks that every element lies inside base's buffer
        return np.ndarray(tuple(shape), dtype=dtype, buffer=base, offset=offset, strides=tuple(strides))
    except (ValueError, TypeError):
        raise MalformedMessage("a view that reaches outside its argument") from None
