"""The trusted interpreter: an ordinary IPython kernel whose globals reach the learner's names.

Started outside the sandbox, in a private empty folder, as ``python -m gradelib.bridge.trusted
-f CONNECTION_FILE``. Its user namespace is a :class:`~gradelib.bridge.proxy.TrustedNamespace`:
test cells run here, and a name they use that this interpreter does not define is looked up
in the learner's kernel through the session the grader opens for each test cell:

    fresh_notebook()            before a notebook: this kernel as a new one (see below)
    open_session(path, token)   before a test cell: listen on ``path``
    close_session()             after it: tell the learner's agent to stop, close the socket

One trusted kernel serves every notebook a grading worker grades (starting one costs more CPU
than grading a small notebook). ``fresh_notebook`` makes it a new kernel to the next notebook's
tests: the user namespace, ``In``/``Out`` and the execution count are IPython's reset; the
process-wide state a test can change (warnings filters, numpy's error handling and print
options, matplotlib's settings and figures, the working folder, ``sys.path``, the attributes of
numpy's and gradelib's modules and classes, ``kept_modules``) goes back to
what the kernel had before its first notebook, and the exception types made for the learner's
errors are forgotten; the random generators of ``random`` and
``numpy.random`` are seeded afresh from the operating system, as a new process's are. Only
imported modules are kept. Learner code never runs here: what a test received from the
learner is data (or handles to the learner's kernel, which end with it).

The learner's agent connects when the grader asks it to serve; the first learner name the
test uses waits for that connection (at most ``ACCEPT_SECONDS``).
"""
from __future__ import annotations

import os
import socket
import sys

from .codec import BridgeError, read_frame
from .peer import Peer, forget_error_types
from .proxy import Proxy, TrustedNamespace

__all__ = ["ACCEPT_SECONDS", "Session", "close_session", "current", "fresh_notebook", "open_session"]

ACCEPT_SECONDS = 20


class Session:
    """One test cell's connection to the learner's agent."""

    def __init__(self, path: str, token: str):
        self.path, self.token = path, token
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        _bind(self.listener, path)
        os.chmod(path, 0o666)  # the sandboxed kernel runs as another user
        self.listener.listen(1)
        self.peer: Peer | None = None
        self.failed: str | None = None
        self.handles: dict[str, object] = {}  # learner functions and classes already looked up in this test

    def connection(self) -> Peer:
        if self.peer is None and self.failed is None:
            self.listener.settimeout(ACCEPT_SECONDS)
            try:
                sock, _ = self.listener.accept()
                sock.settimeout(None)
                hello, _ = read_frame(sock)
                if hello.get("hello") != self.token:
                    sock.close()
                    raise BridgeError("a connection that is not the notebook's agent")
                self.peer = Peer(sock, proxy_class=Proxy, trusted=True)
            except (OSError, EOFError, BridgeError) as error:
                self.failed = ("the notebook's kernel did not connect (is it still busy with an earlier cell, "
                               f"or did it stop?): {type(error).__name__}")
            finally:
                self._stop_listening()
        if self.failed is not None:
            raise BridgeError(self.failed)
        return self.peer

    def lookup(self, name: str):
        """The learner's object called ``name``; a function or class is looked up once per test cell."""
        found = self.handles.get(name)
        if found is None:
            found = self.connection().request("lookup", (name,))
            if isinstance(found, Proxy):
                self.handles[name] = found
        return found

    def _stop_listening(self):
        self.listener.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def close(self):
        self._stop_listening()
        if self.peer is not None and self.peer.broken is None:
            try:
                self.peer.request("stop")
            except BridgeError:
                pass
        if self.peer is not None:
            self.peer.close()


def _bind(sock: socket.socket, path: str) -> None:
    if len(os.fsencode(path)) <= 100:
        sock.bind(path)
        return
    folder = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY)
    try:
        sock.bind(f"/proc/self/fd/{folder}/{os.path.basename(path)}")
    finally:
        os.close(folder)


_session: Session | None = None


def current() -> Session | None:
    return _session


def open_session(path: str, token: str) -> None:
    global _session
    close_session()
    _session = Session(path, token)


def close_session() -> None:
    global _session
    session, _session = _session, None
    if session is not None:
        session.close()


def kept_modules() -> tuple[str, ...]:
    """Modules whose attributes, and whose classes' attributes, a test may patch (and should put back):
    they are put back before the next notebook. The modules the learner's kernel guards (but builtins,
    which IPython and ipykernel rebind as they run cells), ``random``, and gradelib's own here."""
    from ..grading.guard import PROTECTED_MODULES

    return (*(name for name in PROTECTED_MODULES if name != "builtins"), "random", "gradelib.testing",
            "gradelib.bridge.codec", "gradelib.bridge.values", "gradelib.bridge.operations", "gradelib.bridge.peer",
            "gradelib.bridge.proxy")  # not this module: its globals are the kernel's own bookkeeping


class _Attributes:
    """The attributes of some modules and of the classes they define, as they were: ``restore`` puts back
    each one that was replaced or deleted (a patch), and leaves those added since."""

    def __init__(self, names: tuple[str, ...]):
        import importlib

        self.modules, self.saved = {}, {}
        for name in names:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            self.modules[name] = module
            self.saved[module] = dict(vars(module))
            for value in vars(module).values():
                if isinstance(value, type) and value.__module__ == name:
                    self.saved[value] = dict(vars(value))

    def restore(self) -> None:
        for name, module in self.modules.items():
            sys.modules[name] = module
        for owner, saved in self.saved.items():
            now = vars(owner)
            try:  # what was added stays: packages add submodules and caches as they are used
                for key, value in saved.items():
                    if now.get(key, _MISSING) is not value:
                        setattr(owner, key, value)
            except (AttributeError, TypeError):  # a built-in type: nothing of it could have been changed
                pass


_MISSING = object()


class _Baseline:
    """The process-wide state a fresh kernel has, taken before its first notebook; restored before each next."""

    def __init__(self):
        import warnings

        import matplotlib
        import numpy as np

        self.cwd, self.path = os.getcwd(), list(sys.path)
        self.warnings = list(warnings.filters)
        self.errors, self.printing = np.geterr(), np.get_printoptions()
        self.rc = dict(matplotlib.rcParams)
        self.attributes = _Attributes(kept_modules())

    def restore(self) -> None:
        import random
        import warnings

        import matplotlib
        import numpy as np

        os.chdir(self.cwd)
        sys.path[:] = self.path
        warnings.filters[:] = self.warnings
        warnings._filters_mutated()
        np.seterr(**self.errors)
        np.set_printoptions(**self.printing)
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        dict.update(matplotlib.rcParams, self.rc)  # as stored: no re-validation, no warnings
        random.seed()
        np.random.seed()
        self.attributes.restore()


_baseline: _Baseline | None = None


def fresh_notebook() -> None:
    """This kernel, to the next notebook's tests, as a new one (see the module docstring)."""
    global _baseline
    if _baseline is not None:
        _baseline.attributes.restore()  # first: what follows uses these modules
    close_session()
    from IPython import get_ipython

    get_ipython().reset(new_session=True)
    sys.last_type = sys.last_value = sys.last_traceback = None  # the last notebook's error, and its frames
    forget_error_types()
    if _baseline is None:
        _baseline = _Baseline()
    _baseline.restore()


def _die_with_parent() -> None:
    """The trusted kernel never outlives the grader that started it (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def main() -> None:
    from ipykernel.kernelapp import IPKernelApp

    _die_with_parent()
    from gradelib.bridge import trusted  # this file runs as __main__: the sessions live in the imported module

    namespace = TrustedNamespace(session=trusted.current)
    app = IPKernelApp.instance(user_ns=namespace)
    app.initialize(sys.argv[1:])
    app.shell.display_formatter.formatters["text/plain"].for_type(
        Proxy, lambda obj, printer, cycle: printer.text(f"<{type(obj).__name__} object in the notebook's kernel>"))
    app.start()


if __name__ == "__main__":
    main()
