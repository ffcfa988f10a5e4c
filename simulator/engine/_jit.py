"""The one place that owns numba's options for every compiled kernel."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numba
from numba.core import caching

__all__ = ["jit", "jit_inline", "jit_parallel", "prange"]

_OPTIONS = {"cache": True, "nogil": True, "fastmath": False,
            "error_model": "numpy"}

_ENGINE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=8)
def _sources_digest(stamps: tuple) -> str:
    digest = hashlib.sha256()
    for name, _, _ in stamps:
        digest.update(name.encode() + b"\0" + (_ENGINE / name).read_bytes())
    return digest.hexdigest()


def engine_sources_stamp() -> str:
    """A digest of every module of ``simulator/engine`` (re-read when one changes)."""
    stamps = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                   for p in sorted(_ENGINE.glob("*.py")))
    return _sources_digest(stamps)


class _EngineCacheLocator:
    """numba's own cache locator for a function of the engine, with a source stamp
    that covers every engine module.

    numba checks a cached function against the file it is defined in alone
    (numba issue #1833): the path loop of ``_kernel.py`` compiles the
    mechanisms of ``_mechanisms.py`` and the generator of ``_random.py`` into
    its own cache entry, which a change to those files would otherwise leave
    stale (measured: a changed ``tax_due`` left the kernel's results as they
    were). Where the cache lives (``__pycache__``, ``NUMBA_CACHE_DIR``, the
    Dask workers' folders) is numba's choice, as before.
    """

    _numba_locators = tuple(caching.CacheImpl._locator_classes)

    def __init__(self, inner):
        self._inner = inner

    def ensure_cache_path(self):
        self._inner.ensure_cache_path()

    def get_cache_path(self):
        return self._inner.get_cache_path()

    def get_disambiguator(self):
        return self._inner.get_disambiguator()

    def get_source_stamp(self):
        return self._inner.get_source_stamp(), engine_sources_stamp()

    @classmethod
    def from_function(cls, py_func, py_file):
        if Path(py_file).resolve().parent != _ENGINE:
            return None
        for locator in cls._numba_locators:
            inner = locator.from_function(py_func, py_file)
            if inner is not None:
                return cls(inner)
        return None


if _EngineCacheLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, _EngineCacheLocator)

jit = numba.njit(**_OPTIONS)
"""Decorator for serial kernels and helpers."""

jit_inline = numba.njit(inline="always", **_OPTIONS)
"""Decorator for small helpers that take the path's arrays (its generator state, its
book), inlined into their callers by numba: a call to a compiled function takes a
reference on each array argument, two atomic operations a call (8% of the engine's
time went to them, measured with the month's samplers and mechanisms called)."""


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
