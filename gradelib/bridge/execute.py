"""Run a notebook's test cells in a trusted interpreter and every other cell in the learner's kernel.

:class:`TrustedTestsMixin` goes in front of an nbclient/nbgrader ``Execute`` class (the grader's
``GradingExecute(TrustedTestsMixin, SandboxedExecute)``, or plain ``Execute`` without a
sandbox). For each notebook it starts a second, ordinary IPython kernel outside the sandbox
(``gradelib.bridge.trusted``, in a private empty folder) beside the learner's kernel, and:

* a **test cell** (nbgrader ``grade`` and not ``solution``) runs in the trusted kernel. While it
  runs, the learner's kernel serves the bridge (``gradelib.bridge.agent``) on a Unix socket in
  its working folder, so the names the test uses and the trusted side lacks resolve to the
  learner's objects. The cell's outputs are the trusted kernel's, followed by what the
  learner's code printed during the test (stream text only: a displayed value, and so partial
  credit, can only come from the trusted side). A hanging learner call is the cell's timeout.
* the trusted kernel is kept by the process for every notebook it runs, each starting with
  ``gradelib.bridge.trusted.fresh_notebook`` (a fresh namespace and process-wide state); it is
  forked from a zygote that has imported ipykernel, numpy, matplotlib and gradelib
  (``gradelib.bridge.zygote``), so a replacement costs no imports either;
* every **other cell** runs in the learner's kernel as usual; a **given cell** (locked, neither
  test nor solution) also has its definitions (imports, functions, classes; not its
  computations) run in the trusted kernel, so tests have ``np``, ``gradelib`` and helpers of
  their own.

``preprocess`` owns the learner's kernel; the trusted kernel and its zygote belong to the process
(a grading worker keeps them for all its jobs) and end with it, or with ``stop_shared_zygote``.
"""
from __future__ import annotations

import ast
import asyncio
import atexit
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from queue import Empty

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output

from ..kernels import PromptShutdownMixin
from .zygote import TrustedZygote

__all__ = ["TrustedKernelManager", "TrustedTestsMixin", "cell_role", "definitions_only", "prepare_trusted_kernel",
           "shared_zygote", "start_shared_zygote", "stop_shared_zygote"]

STOP_SECONDS = 5  # to let the learner's agent stop after a test, before and after an interrupt
GRADELIB_PARENT = str(Path(__file__).resolve().parent.parent.parent)


def cell_role(cell) -> str:
    """"test", "solution", "given" (locked instructor code) or "other" (the learner's own)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.get("cell_type") != "code":
        return "other"
    if meta.get("grade") and not meta.get("solution"):
        return "test"
    if meta.get("solution"):
        return "solution"
    if meta.get("locked"):
        return "given"
    return "other"


def definitions_only(source: str) -> str:
    """The imports, functions and classes of a cell's top level, each on its own (a failing one is skipped)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return ""
    kept = [node for node in body
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    guarded = [ast.Try(body=[node], handlers=[ast.ExceptHandler(type=ast.Name("Exception", ast.Load()), name=None,
                                                                 body=[ast.Pass()])], orelse=[], finalbody=[])
               for node in kept]
    return ast.unparse(ast.fix_missing_locations(ast.Module(body=guarded, type_ignores=[]))) if guarded else ""


class TrustedKernelManager(PromptShutdownMixin, AsyncKernelManager):
    """Starts a trusted kernel (``gradelib.bridge.trusted``): forked from the zygote, or ``python -m``."""

    zygote = None  # a TrustedZygote, when one is running

    def format_kernel_cmd(self, extra_arguments=None):
        args = ["-f", self.connection_file, "--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=CRITICAL"]
        if self.zygote is not None and self.zygote.alive():
            return self.zygote.command(args)
        return [sys.executable, "-m", "gradelib.bridge.trusted", *args]


_zygote = None
_kernel = None  # this process's trusted kernel (a _SharedKernel), kept for every notebook it runs


def shared_zygote():
    """This process's TrustedZygote, started on first use and stopped when the process exits; None if it cannot start."""
    global _zygote
    if _zygote is not None and not _zygote.alive():
        _zygote.__exit__(None, None, None)
        _zygote = None
    if _zygote is None:
        start_shared_zygote()
        if _zygote is None:
            return None
    try:
        _zygote.wait_ready()  # at once if it is ready; started by start_shared_zygote, it may still be importing
        return _zygote
    except (OSError, RuntimeError):
        _zygote = None
        return None


def start_shared_zygote() -> None:
    """Start this process's TrustedZygote without waiting for its imports (``shared_zygote`` waits).
    From the thread that will use it: the zygote dies with the thread that started it."""
    global _zygote
    if _zygote is not None and _zygote.alive():
        return
    zygote = TrustedZygote(_trusted_environment())
    try:
        zygote.start()
    except OSError:
        zygote.__exit__(None, None, None)
        return
    _zygote = zygote
    atexit.register(zygote.__exit__, None, None, None)


def stop_shared_zygote() -> None:
    """Stop this process's trusted kernel and its TrustedZygote if they run (a later use starts new ones).

    A worker keeps them for all its jobs; a one-off run (``gradelib check``, a test) calls
    this when it is done, so no process outlives it.
    """
    global _zygote, _kernel
    kernel, _kernel = _kernel, None
    if kernel is not None:
        kernel.stop()
    if _zygote is not None:
        _zygote.__exit__(None, None, None)
        _zygote = None


class _SharedKernel:
    """The trusted kernel one process keeps for all the notebooks it runs (``trusted.fresh_notebook``
    makes it a new kernel to each). Its client lives on the event loop that started it."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="gradelib-trusted-")
        self.km = TrustedKernelManager(transport="ipc", ip=os.path.join(self.folder, "kernel"),
                                       connection_file=os.path.join(self.folder, "kernel.json"))
        self.kc = None
        self.loop = asyncio.get_running_loop()

    async def start(self, timeout: float) -> None:
        self.km.zygote = shared_zygote()
        await self.km.start_kernel(cwd=self.folder, env=_trusted_environment())
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=timeout)

    def stop(self) -> None:
        """Synchronous, from any loop or none (at exit): the kernel's stand-in is killed, and the zygote
        kills the kernel when its client goes away; a kernel started without a zygote is its stand-in."""
        if self.kc is not None:
            self.kc.stop_channels()
        process = getattr(self.km.provisioner, "process", None) if self.km.has_kernel else None
        if process is not None:
            try:
                process.kill()
                process.wait(timeout=10)
            except Exception:  # noqa: BLE001 - already gone
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


async def _run_silently(client, code: str, timeout: float) -> dict:
    """Run bookkeeping code silently in a trusted kernel; its reply's content."""
    msg_id = client.execute(code, silent=True, store_history=False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError("the trusted interpreter did not answer")
        try:
            reply = await client.get_shell_msg(timeout=remaining)
        except Empty:
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]


FRESH = "__import__('gradelib.bridge.trusted', fromlist=['_']).fresh_notebook()"
FRESH_SECONDS = 10  # a kernel that takes longer to reset is replaced


async def _kernel_for_a_notebook(startup_timeout: float) -> _SharedKernel:
    """This process's trusted kernel, made fresh for a new notebook; started (or replaced) as needed."""
    global _kernel
    for attempt in range(2):
        kernel = _kernel
        if kernel is not None and kernel.loop is not asyncio.get_running_loop():
            kernel.stop()  # its client belongs to another event loop
            kernel = _kernel = None
        if kernel is None:
            kernel = _kernel = _SharedKernel()
            atexit.register(lambda k=kernel: k.stop() if _kernel is k else None)
            try:
                await kernel.start(startup_timeout)
            except BaseException:
                _kernel = None
                kernel.stop()
                raise
        try:
            if await kernel.km.is_alive() and (await _run_silently(kernel.kc, FRESH, FRESH_SECONDS)).get("status") == "ok":
                return kernel
        except (TimeoutError, OSError, RuntimeError):
            pass
        _kernel = None  # dead, stuck or broken: replaced by a new one
        kernel.stop()
    raise RuntimeError("the trusted interpreter could not be started for this notebook")


def _trusted_environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "GRADELIB_SANDBOX"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [GRADELIB_PARENT, os.environ.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "agg"
    env["PYTHONNOUSERSITE"] = "1"
    return env


def prepare_trusted_kernel(timeout: float = 60) -> bool:
    """Start this process's trusted kernel now (from a thread with no running event loop: the one that
    will run the notebooks), so the first notebook does not wait for it; whether it is ready."""
    try:
        run_sync(_kernel_for_a_notebook)(timeout)
        return True
    except Exception:  # noqa: BLE001 - the first notebook tries again, and reports what fails
        return False


class TrustedTestsMixin:
    """Test cells in a trusted interpreter, learner code in the learner's kernel (see the module docstring)."""

    def preprocess(self, nb, resources=None, km=None):
        self._trusted = None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._trusted = None  # the kernel stays for the next notebook, which starts by resetting it

    # --- the trusted kernel ---------------------------------------------------------------

    async def async_start_new_kernel(self, **kwargs):
        # The trusted kernel is made fresh while the learner's starts.
        trusted = asyncio.ensure_future(_kernel_for_a_notebook(self.startup_timeout))
        try:
            await super().async_start_new_kernel(**kwargs)
        finally:
            self._trusted = await trusted

    # nbclient binds its sync wrappers to its own coroutines: rebind them to ours.
    start_new_kernel = run_sync(async_start_new_kernel)

    async def _trusted_run(self, code: str, timeout: float = 60) -> dict:
        """Run bookkeeping code silently in the trusted kernel; its reply's content."""
        return await _run_silently(self._trusted.kc, code, timeout)

    # --- cells ------------------------------------------------------------------------------

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        role = cell_role(cell)
        if role == "test" and cell.source.strip() and self._trusted is not None:
            return await self._execute_test(cell, cell_index, execution_count, store_history)
        result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if role == "given" and self._trusted is not None:
            code = definitions_only(cell.source)
            if code:
                await self._trusted_run(code)
        return result

    execute_cell = run_sync(async_execute_cell)

    def _learner_folder(self) -> str:
        folder = getattr(self, "kernel_cwd", "") or (self.resources or {}).get("metadata", {}).get("path") or os.getcwd()
        return str(Path(folder).resolve())

    async def _execute_test(self, cell, cell_index, execution_count, store_history):
        client = self._trusted.kc
        token = secrets.token_hex(16)
        path = os.path.join(self._learner_folder(), f".gradelib-bridge-{token[:12]}.sock")
        opened = await self._trusted_run(
            f"__import__('gradelib.bridge.trusted', fromlist=['_']).open_session({path!r}, {token!r})")
        serving = None
        if opened.get("status") == "ok":
            serving = self.kc.execute(f"__import__('gradelib.bridge.agent', fromlist=['_']).serve({path!r}, {token!r})",
                                      silent=True, store_history=False, stop_on_error=False)
        learner_km, learner_kc, source = self.km, self.kc, cell.source
        self.km, self.kc = self._trusted.km, client
        # The sandbox's tamper repair (gradelib.grading.guard) is for the learner's kernel: not needed here.
        cell.source = "\n".join(line for line in source.split("\n") if "gradelib.grading.guard" not in line)
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            self.km, self.kc, cell.source = learner_km, learner_kc, source
            await self._trusted_run("__import__('gradelib.bridge.trusted', fromlist=['_']).close_session()")
        if serving is not None:
            printed, alive = await self._finish_serving(serving)
            cell.outputs.extend(printed)
            if not alive:
                raise DeadKernelError("the learner's kernel died during the test")
        return cell

    async def _finish_serving(self, msg_id: str) -> tuple[list, bool]:
        """Wait for the learner's agent to stop; what the learner's code printed meanwhile."""
        printed, done = [], False
        for attempt in range(2):
            done = await self._await_reply(msg_id, STOP_SECONDS)
            if done or not await self.km.is_alive():
                break
            if attempt == 0:  # still inside the learner's code (an endless loop): interrupt it
                await self.km.interrupt_kernel()
        while True:
            try:
                msg = await self.kc.get_iopub_msg(timeout=0.2 if done else 0)
            except Empty:
                break
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                printed.append(new_output("stream", name=msg["content"]["name"], text=msg["content"]["text"]))
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        return printed, await self.km.is_alive()

    async def _await_reply(self, msg_id: str, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                reply = await self.kc.get_shell_msg(timeout=max(0.01, deadline - loop.time()))
            except Empty:
                return False
            if reply["parent_header"].get("msg_id") == msg_id:
                return True
        return False
