"""Tables of learner cases per unit: realistic mistakes and correct variants (see tests/learnersim.py)."""
