"""Start-up of gradelib's own processes (a grading worker, the command line): what they need not import.

``jsonschema`` imports ``rfc3987_syntax`` whenever it is installed (``jupyter_events``, a
JupyterLab dependency, installs it) to check the "iri" string formats, and that module builds a
grammar when imported: about 1 s of CPU in every process that reads a notebook, since nbformat
validates with jsonschema. nbformat never asks for format checks, so gradelib's own processes
mark the module as absent before anything imports it. Never called inside a caller's process
(``gradelib.grading.grade`` as a library), whose other code might check those formats.
"""
from __future__ import annotations

import sys

__all__ = ["UNUSED", "skip_unused_imports"]

UNUSED = ("rfc3987_syntax",)


def skip_unused_imports() -> None:
    """Make ``import`` of each UNUSED module fail (ImportError) in this process, unless it is already imported."""
    for name in UNUSED:
        sys.modules.setdefault(name, None)
