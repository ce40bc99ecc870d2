"""Does the zygote hand out working, sandboxed kernels, and take them back when their client dies?"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from gradelib.forkserver import CLIENT
from gradelib.grading import _start_forkserver

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead too
        return fh.read().split()[2] != "Z"


def _run(client, code: str) -> str:
    msg_id = client.execute(code)
    out = []
    while True:
        msg = client.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


def test_forked_kernel_runs_code_in_its_sandbox_and_dies_with_its_client(tmp_path):
    """A kernel from the zygote: preloaded numpy, the sandbox's write policy, killed when its client is killed."""
    zygote = _start_forkserver(dict(os.environ))
    assert zygote is not None, "the zygote did not start"
    connection, _ = write_connection_file(str(tmp_path / "kernel.json"))
    pidfile = tmp_path / "kernel.pid"
    client_proc = subprocess.Popen(
        [sys.executable, "-I", str(CLIENT), zygote.socket, "--", "--writable", str(tmp_path), "--pidfile", str(pidfile),
         "--", "-f", connection], cwd=tmp_path, start_new_session=True)
    try:
        client = BlockingKernelClient(connection_file=connection)
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        printed = _run(client, "import sys\nprint('numpy' in sys.modules, 1 + 1)\n"
                               "try:\n    open('/tmp/gradelib-escape.txt', 'w')\nexcept PermissionError:\n    print('refused')")
        assert printed.split() == ["True", "2", "refused"], printed
        kernel = int(pidfile.read_text())
        assert kernel != client_proc.pid and _alive(kernel)
        client.stop_channels()
        os.kill(client_proc.pid, signal.SIGKILL)
        for _ in range(100):
            if not _alive(kernel):
                break
            time.sleep(0.05)
        assert not _alive(kernel), "the kernel outlived its client"
    finally:
        client_proc.kill()
        zygote.stop()
