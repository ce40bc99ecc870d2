"""Stand-in for a kernel process: ask gradelib's zygote for a kernel, relay signals, wait.

Run by jupyter_client as ``python -I _forkclient.py SOCKET -- ARGS``; stdlib only, so it
starts in milliseconds. See gradelib/forkserver.py.
"""
import json
import os
import signal
import socket
import sys


def main() -> int:
    path, args = sys.argv[1], sys.argv[sys.argv.index("--") + 1:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    conn.sendall(json.dumps({"argv": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode() + b"\n")
    replies = conn.makefile("rb")
    pid = int(replies.readline())

    def relay(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, relay)
    line = replies.readline().decode().split()
    return int(line[1]) if len(line) == 2 and line[0] == "exit" else 1


if __name__ == "__main__":
    sys.exit(main())
