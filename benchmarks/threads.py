"""Run numpy's BLAS and torch on one thread, for the benchmarks that compare methods, not machines.

numpy has no API for its BLAS threads; like threadpoolctl, this finds the OpenBLAS library
numpy loaded and calls its own setter. Where none is found, nothing changes and
``single_threaded`` reports ``None`` for numpy.
"""
from __future__ import annotations

import ctypes
from contextlib import contextmanager
from pathlib import Path

__all__ = ["single_threaded"]

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")


def _openblas():
    """(get, set) of the OpenBLAS loaded in this process, or None."""
    import numpy  # noqa: F401  (loads its BLAS)

    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return None
    paths = {line.split()[-1] for line in maps if "openblas" in line and ".so" in line}
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        get = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
        set_ = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
        if get and set_:
            return get, set_
    return None


@contextmanager
def single_threaded():
    """Within the block, numpy's OpenBLAS and torch (if imported) use one thread; yields the
    thread counts in force, ``{"numpy": 1 or None, "torch": 1 or None}``."""
    blas = _openblas()
    saved_blas = blas[0]() if blas else None
    if blas:
        blas[1](1)
    try:
        import torch
    except ImportError:
        torch = None
    saved_torch = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(1)
    try:
        yield {"numpy": blas[0]() if blas else None, "torch": torch.get_num_threads() if torch else None}
    finally:
        if blas:
            blas[1](saved_blas)
        if torch:
            torch.set_num_threads(saved_torch)
