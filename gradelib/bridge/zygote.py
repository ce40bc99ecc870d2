"""Trusted kernels without per-notebook imports: a fork server for ``gradelib.bridge.trusted``.

Every graded notebook needs a trusted kernel, and importing ipykernel, numpy, matplotlib and
gradelib costs about 0.7 s of CPU, as much again as grading the notebook. A
:class:`TrustedZygote` imports them once; each trusted kernel is then a ``fork`` of it, started
through ``gradelib/_forkclient.py`` (what jupyter_client launches and signals: it relays signals to
the kernel and exits with it). The zygote runs outside the sandbox, like the trusted kernels,
and never runs a notebook's code; it dies with the process that owns it, and takes its
kernels with it. A kernel dies when its client goes away.
"""
from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from ..forkloop import serve_forks

__all__ = ["CLIENT", "PRELOAD", "TrustedZygote", "serve"]

CLIENT = Path(__file__).resolve().parent.parent / "_forkclient.py"
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "numpy", "matplotlib", "matplotlib.pyplot", "gradelib",
           "gradelib.testing", "gradelib.bridge.trusted")


class TrustedZygote:
    """The fork server of trusted kernels, owned as a context manager."""

    def __init__(self, env: dict):
        self.env, self.proc, self.folder = env, None, None
        self.socket = ""
        self.ready = False

    def __enter__(self) -> TrustedZygote:
        self.start()
        self.wait_ready()
        return self

    def start(self) -> None:
        """Start the zygote without waiting for its imports (``wait_ready`` does). Call it from the thread
        that will own the zygote: it dies with the thread that started it (Linux's parent-death signal)."""
        self.folder = tempfile.mkdtemp(prefix="gradelib-trusted-zygote-")
        os.chmod(self.folder, 0o700)
        self.socket = os.path.join(self.folder, "zygote.sock")
        self.proc = subprocess.Popen([sys.executable, "-m", "gradelib.bridge.zygote", self.socket], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, start_new_session=True, cwd=self.folder)

    def wait_ready(self) -> None:
        """Wait until the zygote serves; RuntimeError (and the zygote stopped) when it does not start."""
        if self.ready:
            return
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        if not (ready and self.proc.stdout.readline().strip() == "ready"):
            self.__exit__(None, None, None)
            raise RuntimeError("the trusted kernels' zygote did not start")
        self.ready = True

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        if self.folder:
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self, kernel_args: list[str]) -> list[str]:
        return [sys.executable, "-I", str(CLIENT), self.socket, "{}", "--", *kernel_args]


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _child(request: dict, sockets: list) -> None:
    code = 1
    try:
        os.setsid()
        for sock in sockets:
            os.close(sock.detach())
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        os.chdir(request["cwd"])
        from gradelib.bridge import trusted

        sys.argv = ["gradelib.bridge.trusted", *request["argv"]]
        trusted.main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0
    except BaseException:  # noqa: BLE001 - nothing to report to: the client sees the exit code
        pass
    finally:
        os._exit(code)


def _request(line: bytes) -> dict:
    request = json.loads(line)
    if not (isinstance(request.get("argv"), list) and isinstance(request.get("cwd"), str)):
        raise ValueError("a trusted kernel request needs argv (a list) and cwd (a string)")
    return request


def serve(path: str) -> None:
    """Import the trusted kernel's modules, then fork one for each client connecting to ``path``."""
    _die_with_parent()
    for name in PRELOAD:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    serve_forks(listener, _request, _child)


if __name__ == "__main__":
    serve(sys.argv[1])
