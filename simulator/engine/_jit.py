"""The one place that owns numba's options for every compiled kernel."""

from __future__ import annotations

import numba

__all__ = ["jit", "jit_parallel", "prange"]

_OPTIONS = {"cache": True, "nogil": True, "fastmath": False,
            "error_model": "numpy"}

jit = numba.njit(**_OPTIONS)
"""Decorator for serial kernels and helpers."""


def jit_parallel(func):
    """Decorator for kernels that loop over paths with ``prange``.

    No kernel of the package uses it now: the engine and the statistics fold
    are serial ``nogil`` kernels run on the threads of
    :mod:`simulator.engine._threads` (a ``prange`` doubled the engine's
    compile time and left OpenMP's threads spinning between calls;
    benchmarks/RESULTS.md).
    """
    return numba.njit(parallel=True, **_OPTIONS)(func)


prange = numba.prange
