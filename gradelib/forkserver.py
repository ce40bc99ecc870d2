"""A zygote for grading kernels: import once, fork a fresh kernel per notebook.

Starting a Python kernel costs about 0.6 s of CPU, nearly all of it importing ipykernel,
numpy, matplotlib and gradelib, and a class's worth of notebooks pays it once per notebook.
The zygote imports them once and then, for each kernel asked for, forks a child that sets
its sandbox (``gradelib.sandbox.main``: limits, policy, tamper repair) and becomes the
kernel. The zygote never runs a student's code, so every child starts as clean as a fresh
process; it only skips the imports.

jupyter_client expects to start the kernel as its own subprocess, so the command it runs is
``_forkclient.py``, a stdlib-only script (``python -I``, about 20 ms): it asks the zygote for
a kernel over a Unix socket, relays the signals it receives (interrupts, terminate) to the
kernel, and exits with the kernel's exit status. If the client is killed, the zygote sees its
connection close and kills the kernel.

Kernels cannot reach the zygote: the sandbox's audit hook refuses ``socket.connect``.
"""
from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import sys
from pathlib import Path

__all__ = ["CLIENT", "serve"]

CLIENT = Path(__file__).with_name("_forkclient.py")
# Not pyplot nor matplotlib_inline: they bind to the IPython shell that exists only in the kernel.
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython.core.interactiveshell", "numpy", "numpy.testing",
           "matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg", "gradelib", "gradelib.sandbox")


def _child(request: dict, sockets: list[socket.socket]) -> None:
    """In the forked child: become the sandboxed kernel the request asks for; never return."""
    code = 1
    try:
        os.setsid()
        for sock in sockets:  # the zygote's listener and its clients' connections: not the kernel's
            os.close(sock.detach())
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        from gradelib.sandbox import main

        main(request["argv"])
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0
    finally:
        os._exit(code)


def serve(path: str) -> None:
    """Import the kernel's modules, then fork a kernel for each client connecting to ``path``."""
    from gradelib.sandbox import single_threaded_blas

    single_threaded_blas()  # before numpy is imported: threads do not survive fork
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in PRELOAD:
        importlib.import_module(name)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    kernels: dict[socket.socket, int] = {}

    def stop(*_):
        for pid in kernels.values():
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select([listener, *kernels], [], [], 0.2)
        for sock in readable:
            if sock is listener:
                conn, _ = listener.accept()
                request = json.loads(conn.makefile("rb").readline())
                pid = os.fork()
                if pid == 0:
                    _child(request, [listener, conn, *kernels])
                kernels[conn] = pid
                conn.sendall(f"{pid}\n".encode())
            elif not sock.recv(64):  # the client went away: so does its kernel
                try:
                    os.killpg(kernels.pop(sock), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                sock.close()
        while True:  # reap finished kernels and tell their clients
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            for conn, kernel in list(kernels.items()):
                if kernel == pid:
                    try:
                        conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
                    except OSError:
                        pass
                    conn.close()
                    del kernels[conn]


if __name__ == "__main__":
    serve(sys.argv[1])
