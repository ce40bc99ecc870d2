"""Shared by the learner's and the instructor's lab (see jupyter/README.md).

The server runs on .venv's Python; putting that folder first on the server's PATH gives it
to everything the server starts: kernels, nbgrader's `alembic` (the formgrader's first load
fails without it) and terminals. A terminal's bash reads `bashrc` here instead of
~/.bashrc: it sources ~/.bashrc and then puts .venv/bin first again, since a login shell's
/etc/profile (what the terminal would run by default) resets PATH.
"""
import os
import shutil
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
venv_bin = str(Path(sys.executable).parent)
os.environ["PATH"] = os.pathsep.join([venv_bin, os.environ.get("PATH", "")])
os.environ["GRADELIB_VENV_BIN"] = venv_bin  # read by bashrc

c = get_config()  # noqa: F821 - injected by traitlets
bash = shutil.which("bash")
if bash:
    c.ServerApp.terminado_settings = {"shell_command": [bash, "--rcfile", str(here / "bashrc"), "-i"]}
else:  # no bash: a plain sh, which keeps the server's PATH
    c.ServerApp.terminado_settings = {"shell_command": [shutil.which("sh") or "/bin/sh", "-i"]}
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
