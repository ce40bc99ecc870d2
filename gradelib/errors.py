"""The exceptions and warnings gradelib raises."""
from __future__ import annotations

__all__ = ["GradientCheckError", "LowPrecisionWarning"]


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
        ``"mismatch"``.
    details : dict
        Numbers behind the message (worst entry, yours, numerical, factor, time step, ...).
    """

    def __init__(self, message: str, *, input: str | None = None, diagnosis: str = "mismatch", details: dict | None = None):
        super().__init__(message)
        self.input = input
        self.diagnosis = diagnosis
        self.details = dict(details or {})


class LowPrecisionWarning(UserWarning):
    """The function computes in float32 (or lower), so the check is looser than in float64."""
