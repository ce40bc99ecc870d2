"""The operating-system sandbox every learner kernel runs in, and the way to start one.

Two layers, both built on Linux namespaces:

1. **The zygote's sandbox** (``zygote_command``): bubblewrap starts the pre-imported zygote
   (``gradelib.grading.zygote``) in its own mount, PID, network, IPC and UTS namespaces. Its
   filesystem shows the Python environment, ``/usr`` and a few files of ``/etc`` read-only,
   gradelib's own package read-only, a private ``/tmp``, and one read-write folder: the
   worker's slot, which holds the kernels' job folders and the zygote's control socket. Not
   the repository, its ``.git``, ``solutions/``, other students, ``--out``, any gradebook or
   the template cache. No network: kernels talk over IPC sockets in their job folder.
2. **Each kernel's own namespaces** (``enter``, run in the zygote's forked child): a new PID
   namespace (the kernel is its PID 1; it can neither see nor signal the zygote, the grader
   or other kernels, and every process it starts dies with it), new mount, network, IPC and
   UTS namespaces, a fresh size-limited ``/tmp`` that hides the slot, its own job folder
   mounted back, a fresh ``/proc``; hard rlimits (memory, CPU, file size, processes, open
   files, no core dumps), an unprivileged user (``Limits.uid`` when the grader is root; else
   a nested user namespace that holds no capability over the sandbox) and a scrubbed
   environment. bubblewrap has already set ``no_new_privs``.

The job folder is the kernel's working folder and is shared with the worker outside: the
kernel's ZeroMQ channels are IPC sockets there, and a socket the worker creates there can be
connected to from inside (a filesystem socket crosses network namespaces). Make such a socket
connectable by the kernel's user: ``os.chmod(path, 0o666)``.

Starting a sandboxed kernel outside a grading run (``gradelib check``)::

    from gradelib.grading.sandbox import kernel_manager_class
    from gradelib.grading.zygote import Zygote

    with Zygote(slot, limits=Limits(), isolated=True) as zygote:   # slot: a short folder path
        workdir = zygote.job_folder("check")                        # slot/jobs/check, the kernel's cwd
        client = NotebookClient(nb, kernel_manager_class=kernel_manager_class(zygote), ...)
        client.execute(cwd=str(workdir))

Without isolation (``--no-isolation``) the same zygote forks kernels with the hard rlimits
and the scrubbed environment only.
"""
from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import sys
from pathlib import Path

from .records import GradingError, KernelRequest, Limits

__all__ = ["bwrap", "enter", "kernel_environment", "kernel_manager_class", "require_bwrap", "zygote_command"]

_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT = 1, 2, 4, 8, 32
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG = 1
_ETC = ("ld.so.cache", "ld.so.conf", "localtime", "nsswitch.conf", "passwd", "group", "hosts", "mime.types")
GRADELIB = Path(__file__).resolve().parent.parent  # the package folder, shown read-only to kernels


def bwrap() -> str | None:
    """The bubblewrap executable, or None."""
    return shutil.which("bwrap") or (("/usr/bin/bwrap") if os.access("/usr/bin/bwrap", os.X_OK) else None)


def require_bwrap() -> str:
    found = bwrap()
    if found is None:
        raise GradingError("grading isolation needs bubblewrap (the Debian package `bubblewrap`, command `bwrap`); "
                           "install it, or pass --no-isolation to grade without an operating-system sandbox")
    return found


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def unshare(flags: int) -> None:
    _check(_libc().unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(_libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def die_with_parent() -> None:
    _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _python_roots() -> list[str]:
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    roots.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    return sorted(r for r in roots if r not in ("/", "/usr"))


def zygote_command(slot: str, socket: str, *, cache: str | None) -> list[str]:
    """bubblewrap around ``python -m gradelib.grading.zygote SOCKET``, showing only what kernels need."""
    cmd = [require_bwrap(), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--clearenv", "--ro-bind", "/usr", "/usr"]
    if os.geteuid() == 0:  # the zygote keeps what it needs to build each kernel's namespaces and drop to Limits.uid
        cmd += ["--cap-add", "CAP_SYS_ADMIN,CAP_SETUID,CAP_SETGID,CAP_CHOWN"]
    else:  # unprivileged bubblewrap: root of a user namespace of its own
        cmd += ["--unshare-user", "--uid", "0", "--gid", "0", "--cap-add", "ALL"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            cmd += ["--ro-bind", str(path), str(path)]
    for name in _ETC:
        cmd += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    shown = [*_python_roots(), str(GRADELIB), *([cache] if cache and os.path.isdir(cache) else []), slot]
    for parent in sorted({str(p) for path in shown for p in Path(path).parents if str(p) not in ("/", "/tmp")}):
        cmd += ["--perms", "0755", "--dir", parent]  # bubblewrap would make them 0700: closed to the kernel's user
    for path in shown[:-1]:
        cmd += ["--ro-bind", path, path]
    cmd += ["--bind", slot, slot, "--chdir", slot]
    for name, value in {**kernel_environment(cache), **_debug()}.items():
        cmd += ["--setenv", name, value]
    return [*cmd, "--", sys.executable, "-m", "gradelib.grading.zygote", socket]


def kernel_environment(cache: str | None = None) -> dict[str, str]:
    """The whole environment of a kernel: nothing of the grader's (no tokens, no database URLs)."""
    env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
           "HOME": "/tmp", "LANG": "C.UTF-8", "IPYTHONDIR": "/tmp/.ipython", "PYTHONDONTWRITEBYTECODE": "1",
           "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if cache:
        env["MPLCONFIGDIR"] = cache
    return env


def _debug() -> dict:
    return {"GRADELIB_DEBUG_KERNEL": "1"} if os.environ.get("GRADELIB_DEBUG_KERNEL") else {}


def _hard_limits(limits: Limits) -> None:
    mib = 2**20
    for which, value in ((resource.RLIMIT_AS, limits.memory_mb * mib), (resource.RLIMIT_CPU, limits.cpu_seconds),
                         (resource.RLIMIT_FSIZE, limits.file_mb * mib), (resource.RLIMIT_NPROC, limits.processes),
                         (resource.RLIMIT_NOFILE, limits.open_files), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))  # soft == hard: the kernel cannot raise them


def enter(request: KernelRequest) -> None:
    """In the zygote's forked child: become the sandboxed kernel's PID 1 (see the module doc).

    Returns in the process that should become the kernel; the intermediate process that
    stays in the zygote's PID namespace relays interrupts and exits with the kernel.
    """
    limits = request.limits
    if request.isolated:
        unshare(_CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS)
        pid = os.fork()
        if pid:
            _relay_until_exit(pid)
        die_with_parent()
        _mounts(request.cwd, limits)
    os.chdir(request.cwd)
    _hard_limits(limits)
    if request.isolated:
        _drop_privileges(limits.uid)


def _relay_until_exit(pid: int) -> None:
    """The kernel's parent: pass interrupts on, kill the kernel on any other signal, exit with it."""
    def relay(signum, _frame):
        os.kill(pid, signal.SIGINT if signum == signal.SIGINT else signal.SIGKILL)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, relay)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        except InterruptedError:
            continue


def _mounts(job: str, limits: Limits) -> None:
    mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    # The private /tmp hides the slot, and also the Python environment and gradelib when they
    # live under /tmp (a checkout or CI clone there): bring those back read-only. (A matplotlib
    # cache under /tmp stays hidden: matplotlib then makes a fresh one in the private /tmp.)
    shown = [p for p in (*_python_roots(), str(GRADELIB)) if os.path.isdir(p) and Path(p).is_relative_to("/tmp")]
    keep = os.open(job, os.O_PATH | os.O_DIRECTORY)
    kept = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in shown]
    mount("tmpfs", "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={limits.tmp_mb}m,mode=1777")
    os.makedirs(job)
    mount(f"/proc/self/fd/{keep}", job, None, _MS_BIND)
    os.close(keep)
    for path, fd in kept:
        os.makedirs(path, mode=0o755, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        mount(None, path, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY)
        os.close(fd)
    mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)


def _drop_privileges(uid: int) -> None:
    if os.geteuid() == 0 and os.path.exists("/proc/self/uid_map") and _mapped(uid):
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from root to another user: every capability is gone
        return
    # unprivileged bubblewrap: only our own uid exists here; a nested user namespace leaves
    # the kernel no capability over the sandbox's mounts, PIDs or network
    outer = os.geteuid()
    unshare(_CLONE_NEWUSER)
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {outer} 1")
    Path("/proc/self/gid_map").write_text(f"{uid} {os.getegid()} 1")


def _mapped(uid: int) -> bool:
    for line in Path("/proc/self/uid_map").read_text().splitlines():
        inside, _, count = (int(x) for x in line.split())
        if inside <= uid < inside + count:
            return True
    return False


def kernel_manager_class(zygote):
    """An AsyncKernelManager class whose kernels come from ``zygote``, with IPC channels in their cwd."""
    from jupyter_client.manager import AsyncKernelManager

    from ..kernels import PromptShutdownMixin

    class SandboxKernelManager(PromptShutdownMixin, AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            cwd = Path(kw.get("cwd") or zygote.job_folder("kernel"))
            kw["cwd"] = str(cwd)
            self.transport, self.ip = "ipc", str(cwd / "kernel")
            self.connection_file = str(cwd / "kernel.json")
            return await super()._async_pre_start_kernel(**kw)

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            at = cmd.index("-f") if "-f" in cmd else len(cmd)
            zygote.share(Path(self.connection_file))
            return zygote.client_command(cmd[at:])

    return SandboxKernelManager
