"""Small real data sets that ship inside gradelib, so that nothing downloads at run time."""
from __future__ import annotations

import codecs
import contextlib
import gzip
import io
from importlib import resources

import numpy as np

__all__ = ["load_digits", "load_zen"]


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The UCI handwritten digits (the set scikit-learn calls ``load_digits``).

    Returns
    -------
    X : ndarray of shape (1797, 64), float64
        8x8 images flattened row by row, pixel values in 0..16.
    y : ndarray of shape (1797,), int64
        The digit each image shows, 0..9.
    """
    raw = resources.files("gradelib.data").joinpath("digits.csv.gz").read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",")
    return table[:, :-1].astype(np.float64), table[:, -1].astype(np.int64)


def load_zen() -> str:
    """The Zen of Python (``import this``), a short English text that ships with Python itself."""
    # The first import of `this` prints the poem; keep that out of notebook outputs.
    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13")
