"""The learner's side of the bridge: serve a test's requests inside the learner's kernel.

The grader sends the learner's kernel one execute request, ``serve(path, token)``, while a
test cell runs in the trusted interpreter. It connects to the Unix socket the trusted side
listens on (in the kernel's working folder), and runs the requests that arrive (look up a
name, call a function, apply an operator) on the kernel's main thread, until told to stop.
Nothing here is trusted: the notebook's code can replace any of it, and the trusted side
checks everything it receives.
"""
from __future__ import annotations

import os
import socket

from .codec import BridgeError, write_frame
from .peer import Peer
from .proxy import CallbackProxy

__all__ = ["connect", "serve"]

_SUN_PATH_MAX = 100  # a Unix socket path is at most 107 bytes; longer ones go through /proc/self/fd


def connect(path: str) -> socket.socket:
    """A stream socket connected to ``path``, however long the path."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        sock.connect(path)
        return sock
    folder = os.open(os.path.dirname(path) or ".", os.O_PATH | os.O_DIRECTORY)
    try:
        sock.connect(f"/proc/self/fd/{folder}/{os.path.basename(path)}")
    finally:
        os.close(folder)
    return sock


def _namespace() -> dict:
    try:
        return get_ipython().user_ns  # noqa: F821 - defined inside IPython
    except NameError:
        import __main__

        return vars(__main__)


def serve(path: str, token: str, namespace: dict | None = None) -> None:
    """Serve the trusted side's requests until it says stop or the connection ends."""
    try:
        sock = connect(path)
    except OSError:
        return  # the test finished without needing the notebook
    with sock:
        write_frame(sock, {"hello": token}, [])
        peer = Peer(sock, proxy_class=CallbackProxy, trusted=False, namespace=_namespace() if namespace is None else namespace)
        try:
            peer.serve()
        except BridgeError:
            pass
