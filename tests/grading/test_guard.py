"""The in-kernel guard's output cap, called directly (the end-to-end tests run it in kernels)."""
from __future__ import annotations

import io

from gradelib.grading.guard import _CappedStream


def test_output_is_cut_after_the_limit_with_one_notice():
    """Does a flood stop at the limit, say so once, and start afresh in the next cell?"""
    sink = io.StringIO()
    stream = _CappedStream(sink, 10)
    for _ in range(1000):
        stream.write("0123456789\n")
    assert sink.getvalue().startswith("0123456789")
    assert sink.getvalue().count("output stopped after 10 characters") == 1
    assert len(sink.getvalue()) < 100
    stream.reset()
    stream.write("next")
    assert sink.getvalue().endswith("next")
