"""The serving loop of both zygotes: accept a client, fork it a kernel, relay its signals, reap.

``gradelib.grading.zygote`` forks sandboxed learner kernels and ``gradelib.bridge.zygote``
trusted test kernels; each decides how to read a request and what its child becomes, and
both share this loop (standard library only, so either zygote stays light).

The protocol on each client's connection: one request line in; the child's pid out; then the
client may send ``signal N`` lines, which are passed to its kernel; when the kernel ends, the
zygote sends ``exit CODE`` and closes; when the client goes away first, its kernel is killed.
"""
from __future__ import annotations

import os
import select
import signal
import socket
from typing import Callable

__all__ = ["serve_forks"]


def serve_forks(listener: socket.socket, parse: Callable[[bytes], object],
                child: Callable[[object, list], None]) -> None:
    """Serve ``listener`` forever: ``parse`` a client's request line, fork, run ``child`` in the child.

    ``parse`` raises ValueError or TypeError for a malformed request (that client is dropped);
    ``child(request, sockets)`` must close ``sockets`` (the zygote's own) and never return.
    SIGTERM kills every kernel, then the zygote.
    """
    kernels: dict[socket.socket, int] = {}

    def stop(*_):
        for pid in kernels.values():
            _kill(pid)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select([listener, *kernels], [], [], 0.2)
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                try:
                    request = parse(conn.makefile("rb").readline())
                except (ValueError, TypeError, AttributeError):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    child(request, [listener, conn, *kernels])
                kernels[conn] = pid
                conn.sendall(f"{pid}\n".encode())
            else:
                _from_client(sock, kernels)
        _reap(kernels)


def _from_client(sock: socket.socket, kernels: dict) -> None:
    """A client relays a signal ("signal N"), or went away: then so does its kernel."""
    try:
        data = sock.recv(256)
    except OSError:
        data = b""
    if not data:
        _kill(kernels.pop(sock))
        sock.close()
        return
    for line in data.decode(errors="replace").splitlines():
        word, _, number = line.partition(" ")
        if word == "signal" and number.isdigit():
            try:
                os.kill(kernels[sock], int(number))
            except (ProcessLookupError, ValueError):
                pass


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(kernels: dict) -> None:
    """Collect finished kernels and tell their clients how they ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        for conn, kernel in list(kernels.items()):
            if kernel == pid:
                try:
                    conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
                except OSError:
                    pass
                conn.close()
                del kernels[conn]
