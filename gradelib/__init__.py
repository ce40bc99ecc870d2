"""gradelib: numerical gradient checks that tell a learner what is wrong, and the course's commands.

Importing gradelib imports numpy only; the grading commands load Jupyter machinery lazily.
"""
from .check import check_gradient, check_layer
from .errors import GradientCheckError, GradientCheckInconclusive, LowPrecisionWarning
from .numerical import numerical_gradient
from .report import GradientReport, InputReport

__all__ = [
    "GradientCheckError",
    "GradientCheckInconclusive",
    "GradientReport",
    "InputReport",
    "LowPrecisionWarning",
    "check_gradient",
    "check_layer",
    "numerical_gradient",
]
__version__ = "0.1.0"
