"""Inside the kernel: an output cap per cell, and tamper repair before every cell.

This is not the security boundary: that is the operating-system sandbox the kernel runs in
(``gradelib.grading.sandbox``), which keeps a notebook away from everything but its own folder
whatever it does in its own process. What runs here keeps the *verdict* honest while tests
still run in the learner's process:

1. **An output cap**: a cell's stdout and stderr stop after ``Limits.output_chars``
   characters, with one notice, so a flood cannot fill the worker or ``--out``.
2. **Tamper repair** before every cell: the modules the tests rely on (``builtins``, ``math``,
   ``numpy``, ``numpy.testing``, ``gradelib``, ...) get their original attributes and their
   ``sys.modules`` entries back, and IPython's error reporting is reset, so a monkeypatched
   ``np.allclose`` or ``gradelib.check_layer`` is undone before a test runs. Every repair is
   reported in the cell's output; ``restore()`` (called at the start of each test) also fails
   the test while a thread the notebook started is alive.

The grader (``gradelib.grading.preprocessors``) adds a sentinel: a test counts as passed only
when a per-run secret printed at its very end shows up in its output. Once test cells run in
a trusted interpreter (the bridge), neither is needed for them.

Loaded by the zygote's kernels as the IPython extension ``gradelib.grading.guard``.
"""
from __future__ import annotations

import builtins
import importlib
import os
import sys

__all__ = ["OUTPUT_LIMIT_ENV", "TamperingError", "load_ipython_extension", "restore"]

OUTPUT_LIMIT_ENV = "GRADELIB_OUTPUT_LIMIT"  # set by the zygote's child from Limits.output_chars

PROTECTED_MODULES = (
    "builtins", "math", "numpy", "numpy.testing", "numpy.linalg", "numpy.random",
    "gradelib", "gradelib.check", "gradelib.numerical", "gradelib.errors", "gradelib.report",
    "gradelib.probe", "gradelib.diagnose", "gradelib.learner", "gradelib.timeaxis",
    "gradelib.verify", "gradelib.kinks", "gradelib.layer", "gradelib.steps", "gradelib.roundoff", "gradelib.progress",
)

# Names the kernel itself rebinds on every execution (stdin handling, output history).
_KERNEL_MANAGED = frozenset({"input", "raw_input", "getpass", "_", "__", "___", "get_ipython", "display", "exit",
                             "quit", "__IPYTHON__"})

_restore = None  # set by load_ipython_extension; a closure, so its snapshot is not an attribute


class TamperingError(RuntimeError):
    """Raised at the start of a test while code the notebook started is still running."""


def restore() -> list[str]:
    """Undo tampering with the protected modules; return what was repaired (see module doc).

    Raises TamperingError when a thread started by notebook code is alive: it could patch a
    function again while the test runs, so the test cannot be trusted.
    """
    return _restore(strict=True) if _restore is not None else []


class _CappedStream:
    """A stdout/stderr that stops passing text on after ``limit`` characters per cell."""

    def __init__(self, stream, limit: int):
        self._stream, self._limit, self._used, self._noted = stream, limit, 0, False

    def reset(self):
        self._used, self._noted = 0, False

    def write(self, text):
        if self._used < self._limit:
            text = text[: self._limit - self._used]
            self._used += len(text)
            return self._stream.write(text)
        if not self._noted:
            self._noted = True
            self._stream.write(f"\n[gradelib: output stopped after {self._limit:,} characters]\n")
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def load_ipython_extension(ip) -> None:
    """Take the snapshot, install the output cap and the tamper repair."""
    global _restore
    modules = {}
    for name in PROTECTED_MODULES:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError:
            continue
    snapshot = {name: {k: v for k, v in vars(module).items() if not (name == "builtins" and k in _KERNEL_MANAGED)}
                for name, module in modules.items()}
    limit = int(os.environ.get(OUTPUT_LIMIT_ENV, "1000000"))
    streams = {}
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _CappedStream):
            stream = _CappedStream(stream, limit)
            setattr(sys, name, stream)
        streams[name] = stream
    shell_class = type(ip)
    methods = {name: shell_class.__dict__[name] for name in ("run_cell", "run_cell_async", "showtraceback",
                                                            "run_ast_nodes", "run_code") if name in shell_class.__dict__}
    excepthook, real_builtins, set_custom_exc = sys.excepthook, builtins, ip.set_custom_exc
    current_frames, get_ident = sys._current_frames, __import__("threading").get_ident
    MISSING = object()
    marker = os.sep + "ipykernel_"

    def notebook_threads() -> int:
        """Threads, other than the one running cells, executing code that a notebook cell defined."""
        count = 0
        for ident, frame in current_frames().items():
            while ident != get_ident() and frame is not None:
                if marker in frame.f_code.co_filename:
                    count += 1
                    break
                frame = frame.f_back
        return count

    def repair(strict: bool = False) -> list[str]:
        fixed = []
        if strict and notebook_threads():
            raise TamperingError("a thread started by this notebook is still running and could change functions "
                                 "while the test runs, so this test earns no points")
        for name, module in modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                fixed.append(f"sys.modules[{name!r}]")
            namespace = vars(module)
            for key, value in snapshot[name].items():
                if namespace.get(key, MISSING) is not value:
                    namespace[key] = value
                    fixed.append(f"{name}.{key}")
        if ip.user_ns.get("__builtins__") is not real_builtins:
            ip.user_ns["__builtins__"] = real_builtins
            fixed.append("__builtins__")
        for name, stream in streams.items():
            if getattr(sys, name) is not stream:
                setattr(sys, name, stream)
                fixed.append(f"sys.{name}")
            stream.reset()
        if sys.excepthook is not excepthook:
            sys.excepthook = excepthook
            fixed.append("sys.excepthook")
        if ip.custom_exceptions:
            set_custom_exc((), None)
            fixed.append("IPython's custom exception handler")
        for name, method in methods.items():
            if shell_class.__dict__.get(name) is not method:
                setattr(shell_class, name, method)
                fixed.append(f"InteractiveShell.{name}")
            if name in vars(ip):
                delattr(ip, name)
                fixed.append(f"get_ipython().{name}")
        return fixed

    def before_cell(*_):
        fixed = repair()
        if fixed:
            # stdout, not stderr: nbgrader fails any test that writes to stderr, and the
            # test should be judged on the repaired functions, not on the attempt.
            sys.stdout.write("gradelib: restored what this notebook had replaced: " + ", ".join(fixed) + "\n")

    _restore = repair
    ip.events.register("pre_run_cell", before_cell)
