"""Does every notebook keep the authoring rules that grading with a trusted interpreter relies on?

Test cells run in the trusted interpreter and everything else in the learner's kernel
(gradelib.bridge), and the trusted side holds its own copy of the given cells' definitions
(imports, functions, classes; not their computations). So, in every unit:

1. a test cell defines nothing that a later non-test cell needs (the learner's kernel never
   sees a test cell's names);
2. a given definition a test relies on stands on its own: what its decorators, default values
   and base classes need is itself a definition (or a builtin), and no computation rebinds it.
   Otherwise the trusted copy could not be made and the test would silently use the learner's
   copy of the helper instead;
3. a test does not take a value a given cell computes (a learner could change it): it builds
   its own inputs, or uses a definition;
4. a test cell does not end with a bare expression that is not a call of the test's own
   helpers (``print``, ``assert_close``, ...): nbgrader reads a test cell's displayed value as
   its partial credit, and the value of a learner's function or object is the learner's to choose.
"""
from __future__ import annotations

import ast
import builtins

import nbformat
import pytest

from gradelib.bridge.execute import cell_role
from gradelib.course import REPO_ROOT, units

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def parse(source: str) -> ast.Module:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


def bound(tree: ast.AST) -> set[str]:
    """Every name a piece of code binds, anywhere in it."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def loaded(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def free(tree: ast.AST) -> set[str]:
    """Names a cell uses without binding them itself, builtins aside."""
    return loaded(tree) - bound(tree) - set(dir(builtins))


def definition_time_names(node: ast.AST) -> set[str]:
    """What a def or class statement evaluates when it runs: decorators, defaults, bases, keywords."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return set()
    parts = list(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        parts += node.bases + [k.value for k in node.keywords]
    else:
        parts += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
        parts += [a.annotation for a in node.args.args if a.annotation is not None]
    return set().union(*(loaded(p) for p in parts)) - set(dir(builtins)) if parts else set()


def cells(unit: str) -> list:
    """(grade_id, role, syntax tree) of each code cell of a unit's source notebook."""
    nb = nbformat.read(REPO_ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    return [(c.metadata.get("nbgrader", {}).get("grade_id", "(learner's own)"), cell_role(c), parse(c.source))
            for c in nb.cells if c.cell_type == "code"]


def _names_of(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return {node.name}


def names_needed_later(notebook: list) -> list[str]:
    """Rule 1: the names a non-test cell uses that only an earlier test cell defines."""
    from_tests, elsewhere, wrong = {}, set(), []
    for name, role, tree in notebook:
        if role == "test":
            for bound_name in bound(tree) - elsewhere:
                from_tests.setdefault(bound_name, name)
            continue
        needed = free(tree) - elsewhere
        wrong += [f"{name} uses {n!r}, which only the test cell {from_tests[n]} defines" for n in sorted(needed)
                  if n in from_tests]
        elsewhere |= bound(tree)
    return wrong


def given_definitions_not_standing_alone(notebook: list) -> list[str]:
    """Rule 2: given definitions that tests use but the trusted interpreter could not copy faithfully."""
    definitions, computed, wrong = {}, {}, []
    for name, role, tree in notebook:
        if role != "given":
            continue
        for node in tree.body:
            if isinstance(node, DEFINITIONS):
                for defined in _names_of(node):
                    definitions.setdefault(defined, (name, node))
            else:
                for defined in bound(node):
                    computed.setdefault(defined, name)
    used = set().union(*(free(tree) for _, role, tree in notebook if role == "test"))
    for used_name in sorted(used & set(definitions)):
        cell_name, node = definitions[used_name]
        if used_name in computed:
            wrong.append(f"{used_name!r} (given in {cell_name}) is also rebound by a computation in {computed[used_name]}")
        needs = definition_time_names(node) - set(definitions)
        if needs:
            wrong.append(f"{used_name!r} (given in {cell_name}) needs {sorted(needs)} when it is defined, "
                         "which the trusted interpreter does not have")
    return wrong


def given_values_in_tests(notebook: list) -> list[str]:
    """Rule 3: names a test uses whose value a given cell computed (a learner could change it)."""
    given_values, wrong = {}, []
    for name, role, tree in notebook:
        if role == "test":
            wrong += [f"{name} uses {n!r}, computed by the given cell {given_values[n]}"
                      for n in sorted(free(tree) & set(given_values))]
        elif role == "given":
            for node in tree.body:
                if isinstance(node, DEFINITIONS):
                    for n in _names_of(node):
                        given_values.pop(n, None)
                else:
                    for n in bound(node):
                        given_values.setdefault(n, name)
        else:  # a solution or the learner's own cell binding it: the learner's answer, not a given value
            for n in bound(tree):
                given_values.pop(n, None)
    return wrong


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def displayed_values(notebook: list) -> list[str]:
    """Rule 4: test cells whose last statement displays a value that could be the learner's."""
    learners = set().union(*(bound(tree) for _, role, tree in notebook if role in ("solution", "other")))
    wrong = []
    for name, role, tree in notebook:
        last = tree.body[-1] if role == "test" and tree.body else None
        if not isinstance(last, ast.Expr):
            continue
        call = last.value if isinstance(last.value, ast.Call) else None
        if call is None or _root(call.func) in learners:
            wrong.append(f"{name} ends with the expression {ast.unparse(last)[:60]!r}, which nbgrader would read as "
                         "partial credit: assign it, assert on it, or print it")
    return wrong


RULES = [names_needed_later, given_definitions_not_standing_alone, given_values_in_tests, displayed_values]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
@pytest.mark.parametrize("unit", units())
def test_every_unit_keeps_the_rule(unit, rule):
    assert rule(cells(unit)) == []


def notebook(*cells_):
    return [(f"cell{i}", role, parse(source)) for i, (role, source) in enumerate(cells_)]


BROKEN = [
    (names_needed_later, notebook(("test", "x = 1\nassert True"), ("given", "print(x)")), "only the test cell"),
    (given_definitions_not_standing_alone,
     notebook(("given", "scale = 2\ndef f(v, k=scale):\n    return k * v"), ("test", "assert f(1) == 2")), "needs ['scale']"),
    (given_definitions_not_standing_alone,
     notebook(("given", "def f(v):\n    return v\nf = print"), ("test", "assert f(1) == 1")), "rebound by a computation"),
    (given_values_in_tests, notebook(("given", "expected = 6.0"), ("test", "assert g() == expected")),
     "computed by the given cell"),
    (displayed_values, notebook(("solution", "def g():\n    return 1.0"), ("test", "assert g() > 0\ng()"),
                                ("test", "print('fine')")), "partial credit"),
    (displayed_values, notebook(("test", "score = 0.5\nscore"), ("test", "assert_close(1, 1)")), "partial credit"),
]


@pytest.mark.parametrize("rule, broken, words", BROKEN, ids=lambda v: getattr(v, "__name__", None))
def test_each_rule_catches_a_notebook_that_breaks_it(rule, broken, words):
    problems = rule(broken)
    assert len(problems) == 1 and words in problems[0]


def test_definitions_and_learner_answers_are_not_given_values():
    """A given def, or a solution rebinding a given name, is no 'given value'."""
    assert given_values_in_tests(notebook(("given", "x0 = 1.5\ndef cubic(x):\n    return x**3"),
                                              ("solution", "x0 = 2.0"), ("test", "assert cubic(x0) > 0"))) == []
