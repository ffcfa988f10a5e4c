"""The Dask worker plugin of :mod:`simulator.runner.dask` (imports Dask, so it is only
imported once a cluster is used: ``import simulator.runner`` stays cheap)."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["EngineCache"]


class EngineCache(WorkerPlugin):  # type: ignore[misc, valid-type]
    """A Dask worker plugin: its own numba cache directory and one engine thread per
    task, then the engine loaded once.

    Set before the worker imports numba (a fresh worker process has not), so
    they apply; ``base`` defaults to the system's temporary directory. Dask's
    threads are the parallelism (a worker of k threads runs k tasks at once),
    so each task runs the engine on its own thread instead of every task
    starting one engine thread per core (``local:2`` on 2 cores ran 4).
    """

    name = "msp-sim-engine"

    def __init__(self, base: str | None = None):
        super().__init__()
        self.base = base

    def setup(self, worker: Any) -> None:
        if "numba" not in sys.modules:
            base = self.base or tempfile.gettempdir()
            os.environ["NUMBA_CACHE_DIR"] = os.path.join(base,
                                                         f"msp-sim-numba-{worker.name}")
            os.environ["NUMBA_NUM_THREADS"] = "1"
        from .warmup import engine_ready

        engine_ready()


