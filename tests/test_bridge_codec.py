"""Does the tests' side refuse every malformed or oversize message, and close the connection?"""
from __future__ import annotations

import json
import socket
import struct

import numpy as np
import pytest

from gradelib.bridge import codec
from gradelib.bridge.codec import BridgeError, MalformedMessage
from gradelib.bridge.peer import Peer
from gradelib.bridge.proxy import Proxy
from gradelib.bridge.values import Decoder


def frame(header, blob=b""):
    text = json.dumps(header).encode()
    return struct.pack("!II", len(text), len(blob)) + text + blob


def answer_with(raw: bytes):
    """The tests' peer asks; the other side answers ``raw``: what does the ask raise?"""
    ours, theirs = socket.socketpair()
    with theirs:
        peer = Peer(ours, proxy_class=Proxy, trusted=True)
        theirs.sendall(raw)
        theirs.shutdown(socket.SHUT_WR)
        with pytest.raises(BridgeError) as caught:
            peer.request("lookup", ("x",))
        assert peer.broken is not None
        with pytest.raises(BridgeError):  # closed for good
            peer.request("lookup", ("x",))
    return str(caught.value)


BAD = {
    "not json": struct.pack("!II", 5, 0) + b"{oops",
    "not an object": frame([1, 2]),
    "json over the limit": struct.pack("!II", codec.MAX_JSON + 1, 0),
    "blob over the limit": struct.pack("!II", 2, codec.MAX_BLOB + 1) + b"{}",
    "truncated": struct.pack("!II", 100, 0) + b"{}",
    "object dtype": frame({"ok": {"$": "n", "d": "|O", "s": [1], "o": 0}}, b"\0" * 8),
    "bytes outside": frame({"ok": {"$": "n", "d": "<f8", "s": [4], "o": 0}}, b"\0" * 8),
    "negative offset": frame({"ok": {"$": "n", "d": "<f8", "s": [1], "o": -8}}, b"\0" * 8),
    "bad shape": frame({"ok": {"$": "n", "d": "<f8", "s": [-1], "o": 0}}, b"\0" * 8),
    "unknown tag": frame({"ok": {"$": "pickle", "v": "cos\nsystem"}}),
    "unknown object": frame({"ok": {"$": "r", "i": 99}}),
    "argument never sent": frame({"ok": {"$": "a", "i": 0}}),
    "bad copy-back": frame({"ok": None, "b": [[5, 1]]}),
    "deep nesting": frame({"ok": json.loads("[" * 200 + "]" * 200)}),
    "dict keys and values differ": frame({"ok": {"$": "d", "k": [1, 2], "v": [1]}}),
    "unhashable key": frame({"ok": {"$": "d", "k": [[1]], "v": [1]}}),
    "bad error report": frame({"e": "boom"}),
    "bad release list": frame({"ok": None, "rel": "all"}),
    "closed": b"",
}


@pytest.mark.parametrize("raw", BAD.values(), ids=BAD.keys())
def test_a_bad_answer_is_a_bridge_error_and_closes_the_connection(raw):
    message = answer_with(raw)
    assert message  # one sentence, no traceback


def test_a_view_outside_its_argument_is_refused():
    base = np.zeros(4)
    decoder = Decoder(None, bytearray(), sent=[base])
    assert decoder.decode({"$": "v", "i": 0, "d": "<f8", "s": [2], "t": [8], "o": 16}).tolist() == [0.0, 0.0]
    for form in ({"$": "v", "i": 0, "d": "<f8", "s": [4], "t": [8], "o": 8},
                 {"$": "v", "i": 0, "d": "<f8", "s": [2], "t": [-8], "o": 0},
                 {"$": "v", "i": 0, "d": "|O", "s": [1], "t": [8], "o": 0}):
        with pytest.raises(MalformedMessage):
            decoder.decode(form)


def test_an_error_report_rebuilds_builtins_and_names_others():
    from gradelib.bridge.peer import LearnerError, remote_error

    assert type(remote_error("ValueError", "bad")) is ValueError
    assert type(remote_error("ZeroDivisionError", "x")) is ZeroDivisionError
    other = remote_error("LinAlgError", "singular")
    assert isinstance(other, LearnerError) and type(other).__name__ == "LinAlgError"
    assert type(remote_error("not a name!", "x")).__name__ == "LearnerError"
    assert not isinstance(remote_error("SystemExit", "x"), SystemExit)  # never a non-Exception
