"""Does the zygote hand out kernels that are sandboxed, each in namespaces of its own, and take them back?"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from gradelib.course import REPO_ROOT
from gradelib.grading import sandbox
from gradelib.grading.records import Limits
from gradelib.grading.zygote import Zygote

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sandbox.bwrap() is None, reason="bubblewrap is not installed")]

LIMITS = Limits(memory_mb=1024, cpu_seconds=60, file_mb=1, processes=32, uid=123457)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _run(client, code: str) -> str:
    msg_id = client.execute(code)
    out = []
    while True:
        msg = client.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        if msg["msg_type"] == "error":
            out.append(msg["content"]["ename"] + ": " + msg["content"]["evalue"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


@pytest.fixture
def kernel():
    """A zygote in bubblewrap, one kernel from it (its client process), and a client to talk to it."""
    with tempfile.TemporaryDirectory(prefix="gl-") as tmp, Zygote(Path(tmp) / "w0", limits=LIMITS) as zygote:
        folder = zygote.job_folder("job")
        connection, _ = write_connection_file(str(folder / "kernel.json"), transport="ipc", ip=str(folder / "kernel"))
        zygote.share(Path(connection))
        stand_in = subprocess.Popen(zygote.client_command(["-f", connection]), cwd=folder, start_new_session=True)
        client = BlockingKernelClient(connection_file=connection)
        client.load_connection_file()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            yield client, stand_in, zygote, folder
        finally:
            client.stop_channels()
            stand_in.kill()
            stand_in.wait()


def test_the_kernel_is_pid_1_of_its_own_namespace_as_an_unprivileged_user(kernel):
    """Does the kernel see only itself, run as the limits' uid with no capabilities, with numpy preloaded?"""
    client = kernel[0]
    printed = _run(client, "import os, sys\n"
                           "print(os.getpid(), os.getuid(), 'numpy' in sys.modules)\n"
                           "print(sorted(p for p in os.listdir('/proc') if p.isdigit()))\n"
                           "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')])")
    assert printed.split("\n")[:3] == ["1 123457 True", "['1']", "['0000000000000000']"], printed


def test_the_kernel_sees_no_grader_files_and_no_network(kernel):
    """Is the slot's control socket hidden, /tmp private, the network absent?"""
    client, _, zygote, folder = kernel
    # What the private /tmp may hold: IPython's folder, the job, and (for a checkout under /tmp)
    # the read-only Python environment and gradelib, never the repository itself.
    shown = {str(folder).split('/')[2]} | {Path(p).parts[2] for p in [*sandbox._python_roots(), str(sandbox.GRADELIB)]
                                            if Path(p).is_relative_to("/tmp")}
    printed = _run(client, f"import os, socket\n"
                           f"print(os.path.exists({zygote.socket!r}) or os.path.exists({str(REPO_ROOT / '.git')!r}), "
                           f"set(os.listdir('/tmp')) <= {{'.ipython', *{sorted(shown)!r}}})\n"
                           f"print(os.listdir({str(folder.parent)!r}))\n"
                           "s = socket.socket()\n"
                           "try:\n    s.connect(('1.1.1.1', 80)); print('network')\nexcept OSError as e:\n    print('no network')")
    assert printed.split("\n")[:3] == ["False True", "['job']", "no network"], printed


def test_limits_are_hard(kernel):
    """Can the kernel neither raise its limits nor write a file over file_mb?"""
    printed = _run(kernel[0], "import resource\n"
                              "try:\n    resource.setrlimit(resource.RLIMIT_AS, (-1, -1)); print('raised')\n"
                              "except (ValueError, OSError):\n    print('kept')\n"
                              "try:\n    open('big', 'wb').write(b'x' * 2**21); print('wrote')\nexcept OSError as e:\n    print(e.errno)")
    assert printed.split("\n")[:2] == ["kept", "27"], printed  # EFBIG


def test_a_socket_made_outside_in_the_job_folder_can_be_connected_from_inside(kernel):
    """The bridge's seam: a Unix socket the worker creates in the kernel's folder, reached from the kernel?"""
    client, _, _, folder = kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(folder / "bridge.sock"))
    os.chmod(folder / "bridge.sock", 0o666)
    listener.listen(1)
    got = []

    def accept():
        conn, _ = listener.accept()
        got.append(conn.recv(100))
        conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    printed = _run(client, "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('bridge.sock')\n"
                           "s.sendall(b'hello from inside'); s.close(); print('sent')")
    thread.join(10)
    listener.close()
    assert printed.strip() == "sent" and got == [b"hello from inside"]


def test_the_kernel_and_its_children_die_with_their_client(kernel):
    """Kill the stand-in client: does the kernel go, and a daemon it started with it?"""
    client, stand_in, _, folder = kernel
    _run(client, "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n")
    before = {int(p) for p in os.listdir("/proc") if p.isdigit()}
    uid_processes = lambda: [p for p in before | {int(q) for q in os.listdir("/proc") if q.isdigit()}  # noqa: E731
                             if _alive(p) and os.stat(f"/proc/{p}").st_uid == LIMITS.uid]
    assert len(uid_processes()) >= 2
    stand_in.kill()
    for _ in range(100):
        if not uid_processes():
            break
        time.sleep(0.05)
    assert uid_processes() == [], "the kernel or its daemon outlived the client"


def test_a_zygote_leaves_nothing_behind(tmp_path):
    """Is the zygote (and bubblewrap) gone, and its control folder removed, when its context ends?"""
    slot = Path(tempfile.mkdtemp(prefix="gl-"))
    with Zygote(slot, limits=LIMITS) as zygote:
        pid = zygote.proc.pid
        assert _alive(pid) and Path(zygote.socket).exists()
    assert not _alive(pid) and not (slot / "ctl").exists()
    os.rmdir(slot / "jobs")
    os.rmdir(slot)
