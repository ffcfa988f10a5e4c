"""One way to run the engine.

A :class:`~.plan.Plan` says what a run simulates (settings, chunk ranges, per-path
seeds, the columns asked for); a :class:`~.collect.Collector` places what comes back
and builds the result; :mod:`.local` runs a plan here and :mod:`.dask` on a Dask
cluster (they never import each other), the same bits. :func:`run` picks one from
the :class:`~.plan.RunOptions`; :func:`map_ordered` runs any list of tasks (the
scenarios of a comparison, the levers of a scan, the MSPs of a portfolio, the
points of a design) here or on the cluster, with a window and a checkpoint.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "DEFAULT_CHUNK_SIZE": ".plan", "Plan": ".plan", "RunOptions": ".plan", "as_seed": ".plan",
    "check_chunk_size": ".plan",
    "chunk_ranges": ".plan", "run_paths": ".plan", "run_settings": ".plan",
    "progress_bar": ".progress", "engine_ready": ".warmup",
    "map_ordered": ".dispatch", "run": ".dispatch", "using": ".dispatch",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """The runner's names, imported on first use: a Dask worker unpickles the engine
    plugin (:mod:`._dask_plugin`) before numba may be imported."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
