"""`python -m gradelib` runs the gradelib command."""
import sys

from .cli import main

sys.exit(main())
