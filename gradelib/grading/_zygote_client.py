"""Stand-in for a kernel process: ask gradelib's zygote for a kernel, relay signals, wait.

Run by jupyter_client as ``python -I _zygote_client.py SOCKET LIMITS_JSON ISOLATED -- ARGS``;
stdlib only, so it starts in milliseconds. The request it sends is a
``gradelib.grading.records.KernelRequest`` in JSON. See gradelib/grading/zygote.py.
"""
import json
import os
import signal
import socket
import sys


def main() -> int:
    path, limits, isolated = sys.argv[1:4]
    args = sys.argv[sys.argv.index("--") + 1:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    request = {"argv": args, "cwd": os.getcwd(), "limits": json.loads(limits), "isolated": isolated == "1"}
    conn.sendall(json.dumps(request).encode() + b"\n")
    replies = conn.makefile("rb")
    line = replies.readline()
    if not line.strip().isdigit():
        return 1

    def relay(signum, _frame):  # the kernel's PID is the zygote's to use: it lives in another PID namespace
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
