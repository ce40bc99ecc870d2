"""`python -m gradelib` runs the gradelib command."""
import sys

from .cli import command

sys.exit(command())
