"""The worker pool: long-lived worker processes, a deadline per job, one retry for the grader's faults.

Each ``Worker`` is a subprocess (``python -m gradelib.grading.job``) spoken to in JSON lines:
a ``WorkerConfig`` first, then a ``JobSpec`` per job, each answered by a ``JobResult``. A
worker that dies, answers garbage or misses its job's deadline is killed (its process group,
and with it its zygote's sandbox and every kernel) and replaced by a fresh one. A job whose
worker died, or whose result asks for it (``JobResult.retry``: the zygote stopped), is tried
once more; a second failure is that notebook's 0, with the reason, never the batch's.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue

from .records import GradingError, JobResult, JobSpec, WorkerConfig

__all__ = ["Pool", "Worker"]


class Worker:
    """One worker subprocess (a context manager); ``run`` starts it again after a kill."""

    def __init__(self, config: WorkerConfig, env: dict):
        self.config, self.env, self.proc = config, env, None
        self.lock = threading.Lock()  # the pool's thread and its owner (on exit) may both kill

    def __enter__(self) -> "Worker":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()

    command = (sys.executable, "-m", "gradelib.grading.job")

    def start(self) -> None:
        self.proc = subprocess.Popen(list(self.command), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=self.env,
                                     start_new_session=True)
        self.proc.stdin.write(self.config.to_json() + "\n")
        self.proc.stdin.flush()

    def run(self, spec: JobSpec, deadline: float) -> JobResult | None:
        """The job's result, or None when the worker died, misbehaved or missed the deadline (it is killed)."""
        if self.proc is None or self.proc.poll() is not None:
            self.kill()
            self.start()
        proc = self.proc
        try:
            proc.stdin.write(spec.to_json() + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            line = proc.stdout.readline() if ready else ""
            result = JobResult.from_json(line)
            if (result.student, result.unit) != (spec.student, spec.unit):
                raise ValueError("an answer for another job")
            return result
        except (OSError, ValueError, TypeError):
            self.kill()
            return None

    def kill(self) -> None:
        with self.lock:
            proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


class Pool:
    """``workers`` workers serving a queue of jobs from threads; results arrive on ``results``."""

    def __init__(self, configs: list[WorkerConfig], env: dict, worker=None):
        self.workers = [(worker or Worker)(config, env) for config in configs]
        self.pending: Queue = Queue()
        self.results: Queue = Queue()
        self.threads: list[threading.Thread] = []
        self.stopping = threading.Event()

    def __enter__(self) -> "Pool":
        for worker in self.workers:  # they import nbgrader while the gradebooks are prepared
            worker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for worker in self.workers:
            worker.kill()
        for thread in self.threads:
            thread.join(timeout=30)

    def submit(self, jobs: list[tuple[JobSpec, float]], on_failure) -> None:
        """Start serving ``(spec, budget seconds)`` jobs; ``on_failure(spec, reason)`` makes the result of a lost job."""
        for job in jobs:
            self.pending.put(job)
        for worker in self.workers:
            thread = threading.Thread(target=self._serve, args=(worker, on_failure), daemon=True)
            thread.start()
            self.threads.append(thread)

    def next_result(self) -> JobResult:
        """The next finished job (blocks; Ctrl-C interrupts it)."""
        while True:
            try:
                return self.results.get(timeout=1)
            except Empty:
                if not any(thread.is_alive() for thread in self.threads) and self.results.empty():
                    raise GradingError("the worker pool stopped before every notebook was graded") from None

    def _serve(self, worker: Worker, on_failure) -> None:
        try:
            self._serve_jobs(worker, on_failure)
        except Exception:  # noqa: BLE001 - the pool is being closed under this thread: nothing to report
            if not self.stopping.is_set():
                raise

    def _serve_jobs(self, worker: Worker, on_failure) -> None:
        while not self.stopping.is_set():
            try:
                spec, budget = self.pending.get_nowait()
            except Empty:
                return
            started = time.monotonic()
            result = None
            for attempt in range(2):
                result = worker.run(spec, deadline=time.monotonic() + budget)
                if self.stopping.is_set() or (result is not None and not result.retry):
                    break
            if result is None or result.retry:
                result = on_failure(spec, result.reason if result is not None else
                                    f"grading stopped after {budget:g} s: the notebook hung or crashed its grader")
            result.seconds = time.monotonic() - started
            self.results.put(result)


def worker_env(tmp: Path) -> dict:
    """The workers' environment: this one, with gradelib importable and ``tmp`` (the run's) as their
    temporary folder, so whatever a worker leaves there when it is killed goes with the run."""
    package_parent = str(Path(__file__).resolve().parents[2])
    return dict(os.environ, TMPDIR=str(tmp),
                PYTHONPATH=os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")])))
