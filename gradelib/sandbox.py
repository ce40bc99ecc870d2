"""The kernel a submission is graded in: resource limits, a file-access policy, tamper repair.

Student code runs in the same Python process as the tests that grade it, so nothing in that
process is out of its reach in principle. This module raises the bar in layers:

1. **Operating-system limits** (set by ``main`` before the kernel starts): address space
   (a memory bomb gets ``MemoryError`` instead of taking the machine down), CPU seconds,
   largest file written, no core dumps, one BLAS thread.
2. **An audit hook** (PEP 578; it cannot be removed once installed): files may be written only
   in the notebook's own folder; the class's other files, the gradebook and the instructor's
   solutions cannot be read; no subprocesses, no signals to other processes, no ``ctypes``
   calls, no sockets, no walking the garbage collector to reach the grader's state.
3. **Tamper repair** before every cell: the modules the tests rely on (``builtins``, ``math``,
   ``numpy``, ``numpy.testing``, ``gradelib``, ...) get their original attributes and their
   ``sys.modules`` entries back, and IPython's error reporting is reset, so a monkeypatched
   ``np.allclose`` or ``gradelib.check_layer`` is undone before a test runs. Every repair is
   reported in the cell's output, so the feedback says what the notebook did.

The grader (``gradelib.grading``) adds a last layer outside the kernel: a test cell counts as
passed only when a per-run secret printed at its very end shows up in its output.

What this does not stop: code written against this module's own internals by someone who has
read it. The OS limits and the per-notebook process still keep such a notebook from touching
another student's grade.

Run as ``python -m gradelib.sandbox [options] -- <ipykernel arguments>``; the policy reaches
the kernel's extension through ``GRADELIB_SANDBOX_*`` environment variables.
"""
from __future__ import annotations

import argparse
import builtins
import importlib
import os
import sys

__all__ = ["TamperingError", "load_ipython_extension", "main", "restore", "single_threaded_blas"]

ENV_WRITABLE = "GRADELIB_SANDBOX_WRITABLE"
ENV_FORBIDDEN = "GRADELIB_SANDBOX_FORBIDDEN"
ENV_OUTPUT_LIMIT = "GRADELIB_SANDBOX_OUTPUT_LIMIT"

PROTECTED_MODULES = (
    "builtins", "math", "numpy", "numpy.testing", "numpy.linalg", "numpy.random",
    "gradelib", "gradelib.check", "gradelib.numerical", "gradelib.errors", "gradelib.report",
    "gradelib.probe", "gradelib.diagnose", "gradelib.learner", "gradelib.timeaxis",
)

# Names the kernel itself rebinds on every execution (stdin handling, output history).
_KERNEL_MANAGED = frozenset({"input", "raw_input", "getpass", "_", "__", "___", "get_ipython", "display", "exit",
                             "quit", "__IPYTHON__"})

_NO_PROCESSES = frozenset({
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
    "os.forkpty", "pty.spawn", "os.startfile",
})
_NO_INTROSPECTION = frozenset({
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "socket.connect", "socket.bind", "sys.settrace",
    "sys.setprofile", "sys.addaudithook",
})
_PATH_EVENTS = {  # event -> positions of path arguments that must be writable
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.link": (0, 1),
    "os.symlink": (0, 1), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,),
    "shutil.rmtree": (0,), "shutil.move": (0, 1), "shutil.copyfile": (1,), "shutil.copytree": (1,),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _limit(resource_module, which, value):
    try:
        soft, hard = resource_module.getrlimit(which)
        cap = value if hard == resource_module.RLIM_INFINITY else min(value, hard)
        resource_module.setrlimit(which, (cap, hard))
    except (ValueError, OSError):  # a platform without this limit: keep going
        pass


def single_threaded_blas() -> None:
    """One BLAS thread: parallel notebooks share the cores, and threads do not survive a fork."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def main(argv: list[str] | None = None) -> None:
    """Set limits and the policy, then become an IPython kernel with the guard loaded."""
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="python -m gradelib.sandbox")
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--cpu-seconds", type=int, default=600)
    parser.add_argument("--file-mb", type=int, default=64)
    parser.add_argument("--output-limit", type=int, default=1_000_000, help="characters printed per cell")
    parser.add_argument("--writable", action="append", default=[])
    parser.add_argument("--forbid", action="append", default=[])
    parser.add_argument("--pidfile")
    options = parser.parse_args(argv[:split])
    kernel_args = argv[split + 1:]

    import resource

    _limit(resource, resource.RLIMIT_AS, options.memory_mb * 2**20)
    _limit(resource, resource.RLIMIT_CPU, options.cpu_seconds)
    _limit(resource, resource.RLIMIT_FSIZE, options.file_mb * 2**20)
    _limit(resource, resource.RLIMIT_CORE, 0)
    single_threaded_blas()
    os.environ[ENV_WRITABLE] = os.pathsep.join(os.path.realpath(p) for p in options.writable)
    os.environ[ENV_FORBIDDEN] = os.pathsep.join(os.path.realpath(p) for p in options.forbid)
    os.environ[ENV_OUTPUT_LIMIT] = str(options.output_limit)
    if options.pidfile:
        with open(options.pidfile, "w") as fh:
            fh.write(str(os.getpid()))

    from ipykernel.kernelapp import launch_new_instance

    sys.argv = ["ipykernel", *kernel_args, "--IPKernelApp.extensions=['gradelib.sandbox']"]
    launch_new_instance()


# --- inside the kernel ----------------------------------------------------------------------

_restore = None  # set by load_ipython_extension; a closure, so its snapshot is not an attribute


class TamperingError(RuntimeError):
    """Raised at the start of a test while code the notebook started is still running."""


def restore() -> list[str]:
    """Undo tampering with the protected modules; return what was repaired (see module doc).

    Raises TamperingError when a thread started by notebook code is alive: it could patch a
    function again while the test runs, so the test cannot be trusted.
    """
    return _restore(strict=True) if _restore is not None else []


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def _make_audit_hook(writable: tuple[str, ...], forbidden: tuple[str, ...]):
    realpath, fspath, getpid = os.path.realpath, os.fspath, os.getpid
    busy = [False]

    def resolve(path):
        if isinstance(path, int):
            return None
        path = fspath(path)
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        return realpath(path)

    def deny(what):
        raise PermissionError(f"the grading sandbox does not allow {what}")

    def hook(event, args):
        if busy[0]:
            return
        busy[0] = True
        try:
            if event == "open":
                path, mode, flags = (list(args) + [None, None, None])[:3]
                real = resolve(path)
                if real is None or real.startswith("/dev/") or real.startswith("/proc/self/"):
                    return
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool((flags or 0) & _WRITE_FLAGS)
                if writing and not _under(real, writable):
                    deny(f"writing {real}: a notebook may write only in its own folder")
                if _under(real, forbidden) and not _under(real, writable):
                    deny(f"reading {real}: it is outside this notebook's folder")
            elif event in _PATH_EVENTS:
                for i in _PATH_EVENTS[event]:
                    real = resolve(args[i]) if i < len(args) else None
                    if real is not None and not _under(real, writable):
                        deny(f"changing {real}: a notebook may change files only in its own folder")
            elif event == "sqlite3.connect":
                target = args[0] if args else ":memory:"
                real = None if target in (":memory:", b":memory:", "") else resolve(target)
                if real is not None and not _under(real, writable):
                    deny(f"opening the database {real}")
            elif event in ("os.kill", "os.killpg", "signal.pthread_kill"):
                if not args or args[0] != getpid():
                    deny("signalling other processes")
            elif event in _NO_PROCESSES:
                deny("starting other programs")
            elif event in _NO_INTROSPECTION or event.startswith("ctypes."):
                deny(event)
        finally:
            busy[0] = False

    return hook


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
    """Take the snapshot, install the output cap, the tamper repair and the audit hook."""
    global _restore
    modules = {}
    for name in PROTECTED_MODULES:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError:
            continue
    snapshot = {name: {k: v for k, v in vars(module).items() if not (name == "builtins" and k in _KERNEL_MANAGED)}
                for name, module in modules.items()}
    limit = int(os.environ.get(ENV_OUTPUT_LIMIT, "1000000"))
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
    writable = tuple(p for p in os.environ.get(ENV_WRITABLE, "").split(os.pathsep) if p)
    forbidden = tuple(p for p in os.environ.get(ENV_FORBIDDEN, "").split(os.pathsep) if p)
    if writable:
        sys.addaudithook(_make_audit_hook(writable, forbidden))


if __name__ == "__main__":
    main()
