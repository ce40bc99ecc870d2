"""A throwaway JupyterLab server and a headless Chromium for the browser tests.

The server runs from this virtualenv on a free loopback port with a random token. Every
directory it would write to (config, data, runtime, settings, workspaces, IPython) lives
in a temporary folder, so a test never reads or changes the user's own Jupyter setup,
while the virtualenv's kernelspec and lab extensions (nbgrader's among them) stay visible
because they live under ``sys.prefix``.

Chromium is Debian's ``chromium`` package, driven by Playwright through
``executable_path``: nothing is downloaded.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHROMIUM_ARGS", "LabServer", "find_chromium", "launch_chromium", "running_lab"]

# Flags for a quiet, sandbox-free Chromium that works as root in a container and never
# talks to Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

# User settings a fresh lab starts with. Windowing "none" keeps every cell in the DOM, so
# the n-th `.jp-Cell` is the notebook's n-th cell however long the notebook is; news and
# update checks would pop a notification over the page and reach for the network.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

ROLES = Path(__file__).resolve().parent.parent / "jupyter"  # the labs' settings per role

START_TIMEOUT = 180  # seconds; a loaded 2-core CI machine imports JupyterLab slowly


def find_chromium() -> str | None:
    """The path of Debian's Chromium, or None where it is not installed."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def launch_chromium(playwright, executable: str, profile: Path):
    """A headless Chromium browser context on a fresh profile in ``profile``."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=executable,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
    )


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it listens and what it serves."""

    url: str
    token: str
    root_dir: Path
    log: Path

    @property
    def lab_url(self) -> str:
        return f"{self.url}/lab?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, to explain a failure."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_settings(settings_dir: Path) -> None:
    for name, values in LAB_SETTINGS.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _isolated_env(home: Path, role: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if role:  # as `make lab` / `make instructor` start it (see the Makefile)
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(str(ROLES / name) for name in (role, "common"))
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    else:
        env.pop("JUPYTER_CONFIG_PATH", None)
    for var, sub in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
    ]:
        env[var] = str(home / sub)
    env.pop("JUPYTER_PORT_RETRIES", None)
    return env


def _wait_until_ready(proc: subprocess.Popen, server: LabServer) -> None:
    request = urllib.request.Request(f"{server.url}/api/status", headers={"Authorization": f"token {server.token}"})
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {proc.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        time.sleep(0.25)  # polling the server's status, not waiting for a guess
    raise TimeoutError(f"JupyterLab did not answer within {START_TIMEOUT} s:\n{server.log_tail()}")


def _stop(proc: subprocess.Popen) -> None:
    # SIGTERM lets the server shut its kernels down; the process group catches stragglers.
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@contextlib.contextmanager
def running_lab(root_dir: Path, home: Path, *, role: str | None = None, cwd: Path | None = None):
    """Run JupyterLab on ``root_dir`` with all its state in ``home``; yields a LabServer.

    ``role`` ("learner" or "instructor") adds that role's settings from jupyter/ as the
    Makefile does; ``cwd`` is where the server runs (default ``root_dir``).
    """
    home.mkdir(parents=True, exist_ok=True)
    settings_dir = home / "user-settings"
    _write_settings(settings_dir)
    port, token = _free_port(), secrets.token_hex(16)
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root_dir=Path(root_dir), log=home / "jupyterlab.log")
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",  # fail loudly rather than serve on a port we don't know
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:  # CI containers run as root; Jupyter refuses that unless told
        command.append("--allow-root")
    with server.log.open("w") as log:
        proc = subprocess.Popen(
            command, cwd=cwd or root_dir, env=_isolated_env(home, role), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        _wait_until_ready(proc, server)
        yield server
    finally:
        _stop(proc)
