"""What a passing check returns: a report per input, printable and shown as a table in notebooks."""
from __future__ import annotations

import html

import numpy as np
from dataclasses import dataclass, field

__all__ = ["GradientReport", "InputReport"]


def _ceil10(x: float) -> str:
    """The power of ten at or above x: stable across machines, unlike x's own digits."""
    return f"{10.0 ** np.ceil(np.log10(x)):.0e}"


def _bound(err: float, tol: float) -> str:
    """The error as a bound, not its digits: round-off digits differ between machines and
    BLAS builds, and notebooks store this text for nbval to compare."""
    return f"< {tol / 100:.0e}" if err < tol / 100 else f"< {tol:.0e}"


@dataclass(frozen=True)
class InputReport:
    """The check of one input's gradient.

    Attributes
    ----------
    name : str
        The input's name (``"x"``, ``"W"``, ...).
    shape : tuple of int
        Its shape.
    rel_error : float
        The largest relative error seen over the random directions, ``|num - yours| / scale``.
    tolerance : float
        The relative error allowed.
    directions : int
        How many directional derivatives were compared.
    kink_entries : int
        Entries that sit on a kink (ReLU at 0, ties in a max), where a value between the two
        one-sided derivatives is accepted; 0 for a smooth function.
    sensitivity : float or None
        The smallest relative error in one entry of typical size (the root-mean-square of
        ``|grad_i * step_i|``) that the check would have caught: twice the allowance of the
        direction with the smallest one, over that typical entry. None when the gradient is 0.
    """

    name: str
    shape: tuple
    rel_error: float
    tolerance: float
    directions: int
    kink_entries: int = 0
    sensitivity: float | None = None


@dataclass(frozen=True)
class GradientReport:
    """A passed gradient check.

    Attributes
    ----------
    inputs : tuple of InputReport
        One per checked input, in the order given.
    evaluations : int
        Calls made to the function (``forward`` or ``f``), the base call included.
    method : str
        How the numbers were obtained.
    warnings : tuple of str
        Anything the learner should know although the check passed (float32, kinks). Notes,
        never Python warnings: a passing check writes nothing to stderr.
    """

    inputs: tuple
    evaluations: int
    method: str = "random directional derivatives (central differences, float64)"
    warnings: tuple = field(default=())

    passed = True

    def __getitem__(self, name: str) -> InputReport:
        for item in self.inputs:
            if item.name == name:
                return item
        raise KeyError(f"no input named {name!r}; the inputs are {[i.name for i in self.inputs]}")

    @property
    def max_rel_error(self) -> float:
        return max((i.rel_error for i in self.inputs), default=0.0)

    def _rows(self):
        for i in self.inputs:
            kinks = f", {i.kink_entries} on kinks" if i.kink_entries else ""
            catches = f"one entry off by {_ceil10(i.sensitivity)}" if i.sensitivity else "-"
            yield (i.name, "x".join(map(str, i.shape)) or "scalar", _bound(i.rel_error, i.tolerance), f"{i.tolerance:.0e}",
                   catches, f"ok{kinks}")

    def __str__(self) -> str:
        names = ", ".join(i.name for i in self.inputs)
        lines = [f"Gradient check passed for {names} ({self.evaluations} function evaluations)."]
        width = max((len(i.name) for i in self.inputs), default=5)
        for name, shape, err, tol, catches, status in self._rows():
            lines.append(f"  {name:<{width}}  shape {shape:<12} rel. error {err} (tolerance {tol}, catches {catches})  {status}")
        lines += [f"  note: {w}" for w in self.warnings]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{h}</th>" for h in ("input", "shape", "relative error", "tolerance", "catches", "status"))
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in self._rows()
        )
        notes = "".join(f"<li>{esc(w)}</li>" for w in self.warnings)
        return (
            f"<div><b style='color:#1a7f37'>&#10004; Gradient check passed</b> "
            f"({self.evaluations} function evaluations)"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )
