"""Grade a whole class with nbgrader's autograder, in parallel, each notebook in an operating-system sandbox.

nbgrader autogrades one notebook at a time, runs student code with the grader's rights, and its
SQLite gradebook is not safe for concurrent writers. ``grade`` splits the work, one module per
responsibility:

* ``run``: the run (``grade``): submissions checked (``intake``), jobs handed to the worker
  pool, one writer for the class gradebook, grades.csv and the report from the run's records.
* ``pool``: long-lived worker processes, a deadline per job, a dead worker replaced and its
  job retried once; typed records (``records``) in JSON lines between them.
* ``job``: one job in a worker: a notebook in a private nbgrader course and gradebook.
* ``preprocessors``: gradelib's edits to nbgrader's pipelines, module-level classes.
* ``gradebook``: the verified template cache, the single writer, grades.csv.
* ``outputs`` and ``report``: the ``--out`` layout, feedback and failure pages, the class report.
* The kernel side: ``sandbox`` (bubblewrap and each kernel's namespaces and limits), ``zygote``
  (pre-imported kernels forked inside the sandbox), ``guard`` (output cap and tamper repair in
  the kernel).

Beyond one machine: run ``gradelib grade`` on several machines, each on its share of the
students, all with ``--db`` pointing at one PostgreSQL gradebook; each run's single writer
makes short transactions, which PostgreSQL serialises safely.
"""
from __future__ import annotations

from .records import GradingError, GradingRun, JobResult
from .run import grade

__all__ = ["GradingError", "GradingRun", "JobResult", "grade"]
