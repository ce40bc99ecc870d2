"""Kinks: where a function has no derivative, the gradient must be a subgradient, nothing more.

At a ReLU's zero or a tie in a max, the objective is not differentiable along a direction
that crosses the kink (``gradelib.probe`` tells from second differences). Such a direction is
not a verdict; it is resolved here:

* Split it in halves, each probed again, until every block is smooth (and checked like any
  direction) or is a single entry on a kink. The entries are ordered by value first, so that
  equal entries (ties) stay in one block as long as possible: moving tied entries together
  keeps them tied, and a gradient handed to every tied maximum shows there. A kinked block of
  equal values is split straight into its entries.
* A single entry on a kink passes only if the learner's value lies between the two one-sided
  derivatives there, with the allowance of the measurement (ReLU'(0) may be anything in
  [0, 1], never 17).
* A value outside that interval is a failure only if the kink belongs to that entry alone:
  moving every other entry a little must leave the kink in place (a ReLU of this entry).
  When it moves (a tie with another entry, a pre-activation that is 0 for a whole column),
  the line through this entry crosses several kinks at once, the interval seen along it is
  not the whole set of valid values, and the entry is left unresolved.
* The resolution has a budget of evaluations. An entry that was not resolved is never counted
  as checked: the check then ends "inconclusive" (``GradientCheckInconclusive``), not passed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .probe import DirectionResult, Probe

__all__ = ["KinkFailure", "KinkResolver"]

SHIFT_STEP = 100.0  # the isolation test probes with a step this much smaller than its shift


@dataclass
class KinkFailure:
    """A single entry on a kink whose gradient lies outside the one-sided derivatives."""

    index: int  # flat index into the concatenated inputs
    yours: float  # the learner's partial derivative
    low: float  # the one-sided derivatives' range, per unit of this entry
    high: float


class KinkResolver:
    """Resolves kinked directions block by block, within an evaluation budget."""

    def __init__(self, probe: Probe, rng: np.random.Generator, *, budget: int):
        self.probe = probe
        self.rng = rng
        self.budget = budget
        self.checked: set[int] = set()  # entries on a kink whose value lies between the one-sided derivatives
        self.unresolved: set[int] = set()  # entries no verdict could be reached for
        self.rough: set[int] = set()  # resolved entries where the function is not smooth at any step tried
        self.kinks_seen = False  # whether any direction showed a true kink (not only roughness)

    def resolve(self, res: DirectionResult):
        """Resolve a kinked or rough direction: the first failure found (a smooth block's
        DirectionResult or a KinkFailure), or None."""
        V, x = res.V, self.probe.obj.x
        support = np.flatnonzero(V)
        stack = [support[np.argsort(x[support], kind="stable")]]
        while stack:
            idx = stack.pop()
            if self.budget <= 0:
                left = [int(i) for part in stack + [idx] for i in part]
                self.unresolved.update(i for i in left if i not in self.checked)
                return None
            if idx.size > 1 and x[idx[0]] == x[idx[-1]]:
                parts = [idx[i:i + 1] for i in range(idx.size)]  # one tie group, probed together already: entries
            elif idx.size > 1:
                parts = [idx[: idx.size // 2], idx[idx.size // 2:]]
            else:
                parts = [idx]
            for part in parts:
                if part.size == 1 and int(part[0]) in self.checked | self.unresolved:
                    continue
                sub = np.zeros(V.size)
                sub[part] = V[part]
                before = self.probe.obj.calls
                r = self.probe.direction(sub)
                self.budget -= self.probe.obj.calls - before
                if r.ok:
                    continue
                if r.status == "fail":
                    return r
                self.kinks_seen |= r.status == "kink"
                if r.status == "nonfinite":
                    self.unresolved.update(int(i) for i in part)
                elif part.size > 1:
                    stack.append(part)
                else:
                    found = self._single(r, int(part[0]))
                    if found is not None:
                        return found
        return None

    def _single(self, r: DirectionResult, i: int) -> KinkFailure | None:
        if not r.slopes or not np.isfinite(r.allowed):
            self.unresolved.add(i)
            return None
        slack = r.allowed
        low, high = min(r.slopes), max(r.slopes)
        if low - slack <= r.yours <= high + slack:
            self.checked.add(i)
            if r.status == "rough":
                self.rough.add(i)
            return None
        if r.status == "kink" and self._isolated(r, i):
            vi = r.V[i]
            a, b = sorted((low / vi, high / vi))
            return KinkFailure(i, float(self.probe.g[i]), a, b)
        self.unresolved.add(i)
        return None

    def _isolated(self, r: DirectionResult, i: int) -> bool:
        """Does the kink stay at this entry's value when every other entry moves a little?

        Two random shifts of all other entries by one step; after each, the slope's jump is
        measured with a step ``SHIFT_STEP`` times smaller. A kink of this entry alone (a ReLU
        of it) keeps its jump under both; kinks that other entries move (ties, pre-activations
        shared with other weights) leave the small step's line smooth.
        """
        obj = self.probe.obj
        E = np.zeros(r.V.size)
        E[i] = r.V[i]
        h = r.h / SHIFT_STEP
        jump_at_point = r.slopes[2] - r.slopes[0]
        for _ in range(2):
            shift = self.rng.choice(np.array([-1.0, 1.0]), size=r.V.size) * self.probe.scales * r.h
            shift[i] = 0.0
            before = obj.calls
            f0, up, down = obj.at(shift), obj.at(shift + h * E), obj.at(shift - h * E)
            self.budget -= obj.calls - before
            if not all(np.isfinite([f0, up, down])):
                return False
            if abs((up + down - 2 * f0) / h) < 0.5 * abs(jump_at_point):
                return False
        return True
