"""Stand-in for a trusted kernel process: ask the trusted zygote for a kernel, relay signals, wait.

Run by jupyter_client as ``python -I _trusted_client.py SOCKET -- ARGS``; stdlib only, so it
starts in milliseconds. See gradelib/bridge/zygote.py.
"""
import json
import os
import signal
import socket
import sys


def main() -> int:
    path = sys.argv[1]
    args = sys.argv[sys.argv.index("--") + 1:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    conn.sendall(json.dumps({"argv": args, "cwd": os.getcwd()}).encode() + b"\n")
    replies = conn.makefile("rb")
    if not replies.readline().strip().isdigit():
        return 1

    def relay(signum, _frame):
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
