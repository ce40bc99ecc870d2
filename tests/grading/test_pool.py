"""Does the worker pool replace a dead or hung worker, retry its job once, and never lose the batch?"""
from __future__ import annotations

import sys
import textwrap
import time

from gradelib.grading.pool import Pool, Worker
from gradelib.grading.records import JobResult, JobSpec, Limits, WorkerConfig

# A stand-in worker: answers each JobSpec, except that student "dies" kills its worker on the first try,
# "hangs" never answers, and "garbage" answers something that is not a JobResult.
FAKE = textwrap.dedent("""
    import json, os, sys, time
    from gradelib.grading.records import JobResult, JobSpec, WorkerConfig
    config = WorkerConfig.from_json(sys.stdin.readline())
    marker = os.path.join(config.folder, "died-once")
    for line in sys.stdin:
        spec = JobSpec.from_json(line)
        if spec.student == "dies" and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)
        if spec.student == "hangs":
            time.sleep(60)
        if spec.student == "garbage":
            print("not json", flush=True)
            continue
        print(JobResult(spec.student, spec.unit, "graded", scores={"t": [1.0, 1.0]}).to_json(), flush=True)
""")


class FakeWorker(Worker):
    command = (sys.executable, "-c", FAKE)


def run(tmp_path, students, budget=10.0):
    configs = [WorkerConfig(k, str(tmp_path), Limits()) for k in range(2)]
    specs = [(JobSpec(s, "u", "nb", "c", "t", "r", "o", 30), budget) for s in students]
    lost = lambda spec, reason: JobResult(spec.student, spec.unit, "failed", reason)  # noqa: E731
    with Pool(configs, {"PATH": "/usr/bin", "PYTHONPATH": sys.path[0]}, worker=FakeWorker) as pool:
        pool.submit(specs, lost)
        results = {r.student: r for r in (pool.next_result() for _ in specs)}
    return results, [w.proc for w in pool.workers]


def test_a_worker_that_dies_is_replaced_and_its_job_retried_once(tmp_path):
    """The worker dies on the first try: is the job graded on the second, by a fresh worker?"""
    results, workers = run(tmp_path, ["a", "dies", "b", "c"])
    assert {s: r.status for s, r in results.items()} == {"a": "graded", "dies": "graded", "b": "graded", "c": "graded"}
    assert workers == [None, None], "the pool's workers outlived it"


def test_a_hung_or_garbled_worker_costs_only_that_job(tmp_path):
    """A worker that never answers or answers garbage: that job failed with the reason, the others graded?"""
    started = time.monotonic()
    results, _ = run(tmp_path, ["hangs", "garbage", "a", "b"], budget=1.0)
    assert results["hangs"].status == "failed" and "stopped after 1 s" in results["hangs"].reason
    assert results["garbage"].status == "failed"
    assert results["a"].status == results["b"].status == "graded"
    assert time.monotonic() - started < 30
