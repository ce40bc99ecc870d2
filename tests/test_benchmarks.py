"""Do the benchmarks run? Each one's quick mode (tiny sizes), as `python -m benchmarks --quick` runs them.

The full benchmarks (`make bench`) take minutes and are not part of the test suite.
"""
from __future__ import annotations

import importlib
import json

import pytest

from benchmarks import BENCHMARKS, BenchmarkSkipped
from benchmarks.__main__ import main
from benchmarks.course_code import UNIT04, load_functions
from benchmarks.report import markdown_table
from benchmarks.timing import interleaved, median_ratio


@pytest.fixture(scope="module")
def quick_rows():
    """Every benchmark's quick rows, or the reason it skipped (run once for the module)."""
    found = {}
    for name in BENCHMARKS:
        try:
            found[name] = importlib.import_module(f"benchmarks.{name}").run(quick=True)
        except BenchmarkSkipped as skip:
            found[name] = skip
    return found


def _rows(quick_rows, name):
    rows = quick_rows[name]
    if isinstance(rows, BenchmarkSkipped):
        pytest.skip(str(rows))
    return rows


@pytest.mark.parametrize("name", BENCHMARKS)
def test_quick_mode_gives_rows_a_table_and_a_plot(quick_rows, name, tmp_path):
    """Does each benchmark's quick mode give rows that make a table and a plot?"""
    rows = _rows(quick_rows, name)
    assert rows and all(isinstance(r, dict) for r in rows)
    table = markdown_table(rows)
    assert table.count("\n") == len(rows) + 1
    for path in importlib.import_module(f"benchmarks.{name}").plot(rows, tmp_path):
        assert path.is_file() and path.stat().st_size > 0


def test_gradelib_catches_the_wrong_entry_at_every_size(quick_rows):
    """Does gradelib catch the single wrong entry, with a count of evaluations that does not grow?"""
    mine = [r for r in _rows(quick_rows, "bench_gradcheck") if r["checker"] == "gradelib"]
    assert all(r["passes correct layer"] and r["catches 1% error in one dW entry"] for r in mine)
    assert len({r["forward evals"] for r in mine}) == 1
    sweep = [r for r in quick_rows["bench_gradcheck"] if r["checker"] == "full sweep"]
    assert all(r["forward evals"] == 2 * r["parameters"] + 1 for r in sweep)


def test_the_torch_step_is_the_courses_step(quick_rows):
    """Do the numpy and PyTorch training steps compute the same update, in float64 and float32?"""
    pytest.importorskip("torch")
    rows = _rows(quick_rows, "bench_torch")
    assert {r["dtype"] for r in rows} == {"float64", "float32"}
    assert all(r["same step"] for r in rows)


def test_grading_gives_full_marks_to_solutions(quick_rows):
    """Do both graders grade every copy of the solution, and gradelib with full marks?"""
    assert all(r["all graded"] and r["all full marks"] for r in _rows(quick_rows, "bench_grading"))


def test_course_code_is_the_notebooks_own():
    """Are the MLP functions loaded from unit 04's notebook, without running its training cells?"""
    if not UNIT04.is_file():
        pytest.skip("unit 04 is not written yet")
    fns = load_functions(UNIT04, ["init_mlp", "mlp_loss"])
    assert fns["init_mlp"].__code__.co_filename.startswith("04_backprop.ipynb")


def test_missing_names_skip_with_a_reason(tmp_path):
    """Does a notebook without the functions make the benchmark skip, saying what is missing?"""
    with pytest.raises(BenchmarkSkipped, match="does not exist"):
        load_functions(tmp_path / "nowhere.ipynb", ["init_mlp"])


def test_interleaved_times_every_contender_every_repeat():
    """Does each contender run once per repeat, and a ratio come out of paired times?"""
    calls = []
    times = interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3, warmup=False)
    assert sorted(calls) == ["a"] * 3 + ["b"] * 3 and calls[:2] != calls[2:4]  # the order rotates
    assert median_ratio({"a": [2.0, 4.0, 6.0], "b": [1.0, 1.0, 3.0]}, "a", "b") == 2.0
    assert len(times["a"]) == 3


def test_estimated_figures_are_marked():
    """Are extrapolated figures shown as estimates in the table?"""
    table = markdown_table([{"checker": "sweep", "seconds": 5000.0, "estimated": ["seconds"]}])
    assert "5,000 (est.)" in table


def test_main_writes_results(tmp_path, monkeypatch):
    """Does `python -m benchmarks --quick --only ...` write results.md and results.json?"""
    assert main(["--quick", "--only", "bench_gradcheck", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["machine"]["cores"] and data["benchmarks"][0]["rows"]
    assert "| parameters |" in (tmp_path / "results.md").read_text()


def test_lstm_benchmark_times_the_courses_own_steps(quick_rows):
    """Does benchmark 6 time unit 06's and unit 05's own step functions, with four RNN steps of multiply-adds?"""
    from benchmarks.bench_lstm import UNIT05, UNIT06

    rows = _rows(quick_rows, "bench_lstm")
    assert all(r["multiply-adds (× RNN step)"] == 4 and r["LSTM step × RNN step"] > 0 for r in rows)
    for path, name in [(UNIT05, "rnn_step_forward"), (UNIT06, "lstm_step_forward")]:
        fn = load_functions(path, [name])[name]
        assert fn.__code__.co_filename.startswith(path.name)
