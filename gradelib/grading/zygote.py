"""The zygote: import a kernel's modules once, fork a fresh sandboxed kernel per notebook.

Starting a Python kernel costs about 0.6 s of CPU, nearly all of it imports (ipykernel, numpy,
matplotlib, gradelib). The zygote imports them once and forks a child per kernel asked for;
the child enters the kernel's own namespaces and limits (``sandbox.enter``) and becomes the
kernel. The zygote never runs a learner's code, and with isolation on it lives inside the
sandbox itself (``sandbox.zygote_command``), so the speed-up costs no boundary.

jupyter_client starts a kernel as its own subprocess, so the command it runs is
``gradelib/_forkclient.py`` (stdlib only, ``python -I``, about 20 ms): it sends the zygote a
``KernelRequest`` over a Unix socket, relays the signals it receives (interrupts, terminate)
and exits with the kernel. When the client goes away, the zygote kills its kernel.

``Zygote`` (a context manager) owns the zygote process and its slot folder::

    with Zygote(slot, limits=Limits(), isolated=True) as zygote:
        folder = zygote.job_folder("00001")        # a kernel's working folder
        cmd = zygote.client_command(["-f", conn])  # what jupyter_client runs as "the kernel"

Debugging a kernel that dies at start: with ``GRADELIB_DEBUG_KERNEL=1`` in the grader's
environment, each kernel's own output goes to ``kernel.log`` in its job folder.
"""
from __future__ import annotations

import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..forkloop import serve_forks
from .records import GradingError, KernelRequest, Limits

__all__ = ["CLIENT", "Zygote", "serve"]

CLIENT = Path(__file__).resolve().parent.parent / "_forkclient.py"
# pyplot binds to the kernel's IPython shell at its first figure, not when imported; matplotlib_inline
# binds when imported, so it is left to the kernel.
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython.core.interactiveshell", "numpy",
           "numpy.testing", "matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg", "matplotlib.pyplot",
           "gradelib", "gradelib.grading.guard")


class Zygote:
    """One zygote process (inside bubblewrap when ``isolated``) serving kernels for one slot folder."""

    def __init__(self, slot: str | os.PathLike, *, limits: Limits = Limits(), isolated: bool = True,
                 cache: str | None = None):
        self.slot, self.limits, self.isolated, self.cache = Path(slot), limits, isolated, cache
        self.socket = str(self.slot / "ctl" / "zygote.sock")
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Zygote":
        (self.slot / "ctl").mkdir(parents=True, exist_ok=True)
        (self.slot / "jobs").mkdir(exist_ok=True)
        os.chmod(self.slot / "ctl", 0o700)
        from .sandbox import die_with_parent, kernel_environment, zygote_command

        if self.isolated:
            cmd, env = zygote_command(str(self.slot), self.socket, cache=self.cache), None
        else:
            cmd, env = [sys.executable, "-m", "gradelib.grading.zygote", self.socket], kernel_environment(self.cache)
        env = env if env is None else {**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                     text=True, env=env, start_new_session=True, preexec_fn=die_with_parent)
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        if not (ready and self.proc.stdout.readline().strip() == "ready"):
            self.__exit__(None, None, None)
            raise GradingError("the kernel zygote did not start" + (" inside bubblewrap" if self.isolated else ""))
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # bubblewrap's PID namespace takes every kernel with it
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        shutil.rmtree(self.slot / "ctl", ignore_errors=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def job_folder(self, name: str) -> Path:
        """A fresh working folder for one kernel, writable by the kernel's user only."""
        folder = self.slot / "jobs" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.share(folder)
        os.chmod(folder, 0o700)
        return folder

    def share(self, path: Path) -> None:
        """Make ``path`` the kernel's own (its user owns it when the grader runs as root)."""
        if self.isolated and os.geteuid() == 0:
            os.chown(path, self.limits.uid, self.limits.uid)

    def client_command(self, kernel_args: list[str]) -> list[str]:
        request = json.dumps({"limits": json.loads(self.limits.to_json()), "isolated": self.isolated})
        return [sys.executable, "-I", str(CLIENT), self.socket, request, "--", *kernel_args]


def _child(request: KernelRequest, sockets: list[socket.socket]) -> None:
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
        if os.environ.get("GRADELIB_DEBUG_KERNEL"):
            log = os.open(os.path.join(request.cwd, "kernel.log"), os.O_WRONLY | os.O_CREAT, 0o666)
            os.dup2(log, 2)
            os.dup2(log, 1)
        from .guard import OUTPUT_LIMIT_ENV
        from .sandbox import enter

        enter(request)
        os.environ[OUTPUT_LIMIT_ENV] = str(request.limits.output_chars)
        from ipykernel.kernelapp import launch_new_instance

        sys.argv = ["ipykernel", *request.argv, "--IPKernelApp.extensions=['gradelib.grading.guard']"]
        launch_new_instance()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0
    except BaseException:  # noqa: BLE001 - shown only in a debugging run's kernel.log
        if os.environ.get("GRADELIB_DEBUG_KERNEL"):
            import traceback

            traceback.print_exc()
    finally:
        os._exit(code)


def serve(path: str) -> None:
    """Import the kernel's modules, then fork a kernel for each client connecting to ``path``."""
    for name in PRELOAD:  # one BLAS thread is set in the environment: threads do not survive fork
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    serve_forks(listener, KernelRequest.from_json, _child)


if __name__ == "__main__":
    serve(sys.argv[1])
