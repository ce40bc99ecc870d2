"""One end of the bridge: a synchronous, nestable request/response link over one socket.

Both interpreters run a :class:`Peer`. A request ("call this object", "add these two", "look
up this name") carries data and handles; while a peer waits for its answer it serves the
requests the other side sends meanwhile (a test's lambda called back by the learner's
function, which may itself call the learner's ``Value`` operators), so calls nest freely and
the two sides strictly take turns on the socket.

The peers are not equal. The learner's peer (``agent``) serves every operation on its own
objects. The trusted peer serves the notebook only what a test hands it: calling the objects
the test passed, operators on them, and reading their public attributes, never a module's,
and writing none (``operations``). Everything the trusted peer receives is checked (``codec``, ``values``).
"""
from __future__ import annotations

import builtins
import weakref

import numpy as np

from .codec import BridgeError, FrameReader, MalformedMessage, write_frame
from .operations import perform
from .values import Decoder, Encoder, Snapshot

__all__ = ["LearnerError", "Peer", "forget_error_types", "remote_error"]

MAX_MESSAGE_CHARS = 20_000  # of an exception's message

_EXCEPTIONS = {name: cls for name, cls in vars(builtins).items()
               if isinstance(cls, type) and issubclass(cls, Exception)}


class LearnerError(Exception):
    """An exception of a type the trusted side does not have, raised by the other side's code."""


_error_types: dict[str, type] = {}


def forget_error_types() -> None:
    """Drop the exception types made for the other side's errors (a trusted kernel does, between notebooks)."""
    _error_types.clear()


def remote_error(name, message) -> BaseException:
    """The exception to raise for an error that crossed the bridge: builtins as themselves."""
    if not (isinstance(name, str) and name.isidentifier() and len(name) <= 100):
        name = "LearnerError"
    message = str(message)[:MAX_MESSAGE_CHARS] if isinstance(message, str) else ""
    cls = _EXCEPTIONS.get(name)
    if cls is not None:
        try:
            return cls(message) if message else cls()
        except TypeError:  # UnicodeDecodeError and friends take several arguments
            pass
    if name not in _error_types:
        _error_types[name] = type(name, (LearnerError,), {"__module__": "notebook"})
    return _error_types[name](message)


class Peer:
    """One end of a bridge connection (see the module docstring).

    Inputs:
    - sock: a connected stream socket
    - proxy_class: the class of the proxies this peer makes for the other side's objects
    - trusted: True on the tests' side (serves the restricted set of operations)
    - namespace: the mapping "lookup" requests read (the learner's globals), or None
    """

    def __init__(self, sock, *, proxy_class, trusted: bool, namespace=None):
        self.sock, self.proxy_class, self.trusted, self.namespace = sock, proxy_class, trusted, namespace
        self.reader = FrameReader(sock)
        self._objects: dict[int, object] = {}  # what this side exported, by number
        self._numbers: dict[int, int] = {}  # id(obj) -> number
        self._next = 1
        self._proxies: dict[int, weakref.ref] = {}  # the other side's objects we hold, by number
        self._released: list[int] = []  # proxies that died since our last message
        self.broken: str | None = None
        self.stopped = False

    # --- handles --------------------------------------------------------------------------

    def handle_for(self, obj) -> dict:
        number = self._numbers.get(id(obj))
        if number is None:
            number, self._next = self._next, self._next + 1
            self._objects[number] = obj
            self._numbers[id(obj)] = number
        return {"$": "h", "i": number, "n": type(obj).__name__[:100]}

    def reference(self, proxy) -> dict:
        """A proxy of ours sent back: the other side's own object."""
        if proxy._Proxy__peer is not self:
            raise BridgeError("an object from an earlier test cell's connection cannot be used any more")
        return {"$": "r", "i": proxy._Proxy__number}

    def exported(self, number: int):
        try:
            return self._objects[number]
        except KeyError:
            raise MalformedMessage(f"a reference to object {number}, which this side never sent") from None

    def proxy_for(self, number: int, type_name) -> object:
        ref = self._proxies.get(number)
        proxy = ref() if ref is not None else None
        if proxy is None:
            proxy = self.proxy_class.make(self, number, type_name)
            self._proxies[number] = weakref.ref(proxy, self._forget(number))
            if number in self._released:
                self._released.remove(number)
        return proxy

    def _forget(self, number: int):
        def gone(ref, peer=weakref.ref(self)):
            self_ = peer()
            if self_ is not None and self_._proxies.get(number) is ref:
                del self_._proxies[number]
                self_._released.append(number)
        return gone

    def _drop(self, header: dict) -> None:
        numbers = header.get("rel", [])
        if not isinstance(numbers, list):
            raise MalformedMessage("an invalid release list")
        for number in numbers:
            obj = self._objects.pop(number, None) if type(number) is int else None
            if obj is not None:
                self._numbers.pop(id(obj), None)

    # --- the link ---------------------------------------------------------------------------

    def _send(self, header: dict, blobs: list) -> None:
        if self._released:
            header["rel"], self._released = self._released, []
        try:
            write_frame(self.sock, header, blobs)
        except BridgeError:
            raise
        except BaseException as error:
            self._break(f"the connection failed while sending ({type(error).__name__})")
            if isinstance(error, Exception):
                raise BridgeError(self.broken) from None
            raise

    def _recv(self) -> tuple[dict, bytearray]:
        try:
            header, blob = self.reader.read()
            self._drop(header)
            return header, blob
        except MalformedMessage as error:
            self._break(f"the other side sent a malformed message: {error}")
            raise BridgeError(self.broken) from None
        except BaseException as error:
            self._break("the other side stopped answering" if isinstance(error, (EOFError, OSError))
                        else f"the connection was interrupted ({type(error).__name__})")
            if isinstance(error, Exception):
                raise BridgeError(self.broken) from None
            raise

    def _break(self, reason: str) -> None:
        if self.broken is None:
            self.broken = reason
        try:
            self.sock.close()
        except OSError:
            pass

    def close(self) -> None:
        self._break("the connection was closed")

    def request(self, op: str, args: tuple = (), kwargs: dict | None = None):
        """Ask the other side to perform ``op`` on ``args``; serve its requests until it answers."""
        if self.broken is not None:
            raise BridgeError(self.broken)
        encoder = Encoder(self)
        header = {"q": op, "a": [encoder.encode(a) for a in args]}
        if kwargs:
            header["k"] = {str(k): encoder.encode(v) for k, v in kwargs.items()}
        if op == "call" and self.trusted:  # the test's strict numpy settings hold in the learner's call too
            strict = sorted(k for k, v in np.geterr().items() if v == "raise")
            if strict:
                header["fp"] = strict
        self._send(header, encoder.blobs)
        while True:
            header, blob = self._recv()
            if "q" in header:
                self._serve_one(header, blob)
                if self.stopped:
                    raise BridgeError("the connection was stopped during a call")
                continue
            return self._answer(header, blob, encoder.sent)

    def serve(self) -> None:
        """Answer requests until the other side says stop (or goes away)."""
        while not self.stopped and self.broken is None:
            header, blob = self._recv()
            if "q" not in header:
                self._break("an answer arrived that nobody asked for")
                raise BridgeError(self.broken)
            self._serve_one(header, blob)

    def _answer(self, header: dict, blob: bytearray, sent: list):
        try:
            if "e" in header:
                error = header["e"]
                if not isinstance(error, list) or len(error) != 3:
                    raise MalformedMessage("an invalid error report")
                name, message, origin = error
                original = Decoder(self, blob).decode(origin) if origin is not None else None
                if isinstance(original, BaseException):  # our own exception, back through their code
                    raise original
                rebuilt = remote_error(name, message)
                if isinstance(original, self.proxy_class):  # theirs: raised as itself if it goes back
                    rebuilt.__bridge_origin__ = original
                raise rebuilt
            decoder = Decoder(self, blob, sent)
            back = header.get("b", [])
            if not isinstance(back, list):
                raise MalformedMessage("an invalid copy-back list")
            for item in back:
                if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int
                        and 0 <= item[0] < len(sent)):
                    raise MalformedMessage("an invalid copy-back entry")
                _copy_back(sent[item[0]], decoder.decode(item[1]))
            return decoder.decode(header.get("ok"))
        except MalformedMessage as error:
            self._break(f"the other side sent a malformed message: {error}")
            raise BridgeError(self.broken) from None

    # --- serving ----------------------------------------------------------------------------

    def _serve_one(self, header: dict, blob: bytearray) -> None:
        op = header.get("q")
        if op == "stop":
            self.stopped = True
            self._send({"ok": None}, [])
            return
        decoder = Decoder(self, blob)
        try:
            args = header.get("a", [])
            kwargs = header.get("k", {})
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise MalformedMessage("a request without its arguments")
            args = [decoder.decode(a) for a in args]
            kwargs = {k: decoder.decode(v) for k, v in kwargs.items()}
        except MalformedMessage as error:
            self._break(f"the other side sent a malformed message: {error}")
            raise BridgeError(self.broken) from None
        mutables = decoder.mutables
        snapshot = Snapshot(mutables, blob, decoder.forms) if mutables else None
        try:
            with np.errstate(**_strict_errors(header.get("fp"), self.trusted)):
                result = self._perform(op, args, kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001 - every error of the served code is the caller's
            self._send_error(error)
            return
        if mutables:
            numbering = {id(obj): n for n, obj in enumerate(mutables)}
            contiguous = frozenset(n for n, form in enumerate(decoder.forms) if form is not None and form.get("c"))
            encoder = Encoder(self, numbering, contiguous)
        else:
            encoder = Encoder(self)
        try:
            back = [[n, _state(encoder, mutables[n])] for n in snapshot.changed()] if snapshot else None
            answer = {"ok": encoder.encode(result)}
        except BridgeError as error:
            self._send_error(error)
            return
        if back:
            answer["b"] = back
        try:
            self._send(answer, encoder.blobs)
        except BridgeError as error:  # too large: say so instead
            if self.broken is not None:
                raise
            self._send_error(error)

    def _send_error(self, error: BaseException) -> None:
        origin = getattr(error, "__bridge_origin__", None)
        try:
            message = str(error)
        except Exception:  # noqa: BLE001 - a broken __str__ of the served code
            message = ""
        encoder = Encoder(self)
        reference = self.reference(origin) if isinstance(origin, self.proxy_class) and origin._Proxy__peer is self else None
        if reference is None and self.trusted:  # the test's own exception, to be raised as itself if it comes back
            reference = encoder.encode(error)
        self._send({"e": [type(error).__name__, message[:MAX_MESSAGE_CHARS], reference]}, encoder.blobs)

    def _perform(self, op, args: list, kwargs: dict):
        return perform(op, args, kwargs, trusted=self.trusted, namespace=self.namespace)


def _strict_errors(fp, trusted: bool) -> dict:
    """numpy's floating-point errors a test asked to raise (``np.errstate(over="raise")``), for the
    learner's side of its call: a check such as ``gradelib.testing.call_strict`` then sees an overflow
    in the learner's function as a FloatingPointError, as it does in one process."""
    if trusted or not isinstance(fp, list):
        return {}
    return {k: "raise" for k in fp if k in ("divide", "over", "under", "invalid")}


def _state(encoder: Encoder, obj):
    """A changed mutable argument's new content, its own nested arguments as references."""
    encoder._register(obj)
    if isinstance(obj, np.ndarray):
        from .codec import pack

        return pack(obj, encoder.blobs, encoder.offset)
    if isinstance(obj, list):
        return [encoder.encode(item, 1) for item in obj]
    items = list(obj.items())
    return {"$": "d", "k": [encoder.encode(k, 1) for k, _ in items], "v": [encoder.encode(v, 1) for _, v in items]}


def _copy_back(original, state) -> None:
    """Make the caller's ``original`` hold what the callee's copy of it holds now."""
    if isinstance(original, np.ndarray) and isinstance(state, np.ndarray):
        if state.shape != original.shape:
            raise MalformedMessage("an argument array came back with another shape")
        np.copyto(original, state, casting="unsafe")
    elif isinstance(original, list) and isinstance(state, list):
        original[:] = state
    elif isinstance(original, dict) and isinstance(state, dict):
        original.clear()
        original.update(state)
    else:
        raise MalformedMessage("an argument came back as another kind of value")
