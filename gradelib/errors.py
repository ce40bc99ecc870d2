"""The exceptions and warnings gradelib raises."""
from __future__ import annotations

__all__ = ["GradientCheckError", "GradientCheckInconclusive", "LowPrecisionWarning"]


class GradientCheckError(AssertionError):
    """An implementation's gradient is wrong; the message is written for the learner.

    Attributes
    ----------
    input : str or None
        The name of the input whose gradient is wrong (None when the fault is not tied to one).
    diagnosis : str
        A short key for the mistake the numbers show, e.g. ``"sign"``, ``"scale"``,
        ``"transpose"``, ``"shape"``, ``"zeros"``, ``"nonfinite"``, ``"none"``, ``"count"``,
        ``"type"``, ``"inplace"``, ``"time"``, ``"not_implemented"``, ``"exception"``,
        ``"ignores_dout"``, ``"kink"``, ``"mismatch"``.
    details : dict
        Numbers behind the message (worst entry, yours, numerical, factor, time step, ...).
    """

    def __init__(self, message: str, *, input: str | None = None, diagnosis: str = "mismatch", details: dict | None = None):
        super().__init__(message)
        self.input = input
        self.diagnosis = diagnosis
        self.details = dict(details or {})


class GradientCheckInconclusive(AssertionError):
    """The check cannot tell whether the gradient is right: neither a pass nor a fail.

    It is an AssertionError, so a test that needs a verdict does not pass silently; it is not
    a GradientCheckError, so code that expects a *failure* does not take it for one.

    Attributes
    ----------
    reason : str
        ``"nondeterministic"`` (the forward pass is not a function of its inputs),
        ``"kinks"`` (too much sits on kinks or ties to resolve), ``"nonfinite"`` (the function
        is not finite near the point), ``"noise"`` (round-off swamps the derivative).
    input : str or None
        The input concerned, when there is one.
    details : dict
        Numbers behind the message.
    """

    def __init__(self, message: str, *, reason: str, input: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.reason = reason
        self.input = input
        self.details = dict(details or {})


class LowPrecisionWarning(UserWarning):
    """Kept for compatibility: gradelib no longer warns on a pass (a note goes into the report)."""
