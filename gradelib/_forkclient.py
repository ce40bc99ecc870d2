"""Stand-in for a kernel process: ask a zygote for a kernel, relay signals to it, exit with it.

Run by jupyter_client as ``python -I _forkclient.py SOCKET REQUEST_JSON -- KERNEL_ARGS``;
stdlib only, so it starts in milliseconds. It sends the zygote one request line, the JSON
object REQUEST_JSON plus ``argv`` (KERNEL_ARGS) and ``cwd``, then speaks the protocol of
``gradelib/forkloop.py``. Both zygotes use it: ``gradelib.grading.zygote`` (sandboxed learner
kernels) and ``gradelib.bridge.zygote`` (trusted test kernels).
"""
import json
import os
import signal
import socket
import sys


def main() -> int:
    path, extra = sys.argv[1:3]
    request = {**json.loads(extra), "argv": sys.argv[sys.argv.index("--") + 1:], "cwd": os.getcwd()}
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    conn.sendall(json.dumps(request).encode() + b"\n")
    replies = conn.makefile("rb")
    if not replies.readline().strip().isdigit():
        return 1

    def relay(signum, _frame):  # the kernel's PID is the zygote's to use: it may live in another PID namespace
        try:
            conn.sendall(f"signal {signum}\n".encode())
        except OSError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, relay)
    line = replies.readline().decode().split()
    return int(line[1]) if len(line) == 2 and line[0] == "exit" else 1


if __name__ == "__main__":
    sys.exit(main())
