"""nbgrader configuration for the course (read by the `nbgrader` command from the repo root).

The settings live in gradelib.course so that gradelib's own commands use the same ones.
"""
from gradelib.course import nbgrader_config

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file
c.merge(nbgrader_config())
