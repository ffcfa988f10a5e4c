"""The Dask worker plugin of :mod:`simulator.distributed` (imports Dask, so it is only
imported once a cluster is used: ``import simulator.distributed`` stays cheap)."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["EngineCache"]


class EngineCache(WorkerPlugin):  # type: ignore[misc, valid-type]
    """A Dask worker plugin: its own numba cache directory, then the engine loaded once.

    Set before the worker imports numba (a fresh worker process has not), so the
    directory applies; ``base`` defaults to the system's temporary directory.
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
        from .api import engine_ready

        engine_ready()


