"""Word from a long check: when one call of the function takes long, say how many calls the check
will make before starting, then show progress; Ctrl-C stops it cleanly (a KeyboardInterrupt
passes through gradelib untouched, and nothing is left behind: the checker holds no files or
processes).

It prints to stdout, never stderr: nbgrader gives no points to a test cell that writes to stderr.
A check of a fast function prints nothing.
"""
from __future__ import annotations

import sys
import time

__all__ = ["Progress", "SLOW"]

SLOW = 1.0  # seconds per call from which a check reports what it is doing
EVERY = 10.0  # seconds between progress lines


class Progress:
    """Counts evaluations; speaks only when the first one was slow."""

    def __init__(self, who: str, *, stream=None):
        self.who = who
        self.stream = stream
        self.per_call = 0.0
        self.expected = 0
        self._start = time.perf_counter()
        self._last = self._start
        self.speaking = False

    def first_call_done(self, expected: int) -> None:
        """Called after the first evaluation, with the number a passing check will make."""
        self.per_call = time.perf_counter() - self._start
        self.expected = expected
        if self.per_call >= SLOW:
            self.speaking = True
            total = self.per_call * expected
            self._say(f"gradelib: one call of {self.who} takes {self.per_call:.1f} s; this check makes about "
                      f"{expected} calls (~{_duration(total)}), more if it finds a kink or a mistake. "
                      "Ctrl-C stops it.")
            self._last = time.perf_counter()

    def tick(self, calls: int) -> None:
        if self.speaking and time.perf_counter() - self._last >= max(EVERY, self.per_call):
            self._last = time.perf_counter()
            self._say(f"gradelib: {calls} of about {self.expected} calls done")

    def _say(self, text: str) -> None:
        print(text, file=self.stream or sys.stdout, flush=True)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
