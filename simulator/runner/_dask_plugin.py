"""The Dask worker plugin of :mod:`simulator.runner.dask` (imports Dask, so it is only
imported once a cluster is used: ``import simulator.runner`` stays cheap)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from ..version import code_identity

__all__ = ["CodeMismatch", "EngineCache"]


class CodeMismatch(RuntimeError):
    """A worker runs another msp-sim (version or sources) than the client."""


class EngineCache(WorkerPlugin):  # type: ignore[misc, valid-type]
    """A Dask worker plugin: the same msp-sim as the client, its own private numba cache
    directory and one engine thread per task, then the engine loaded once.

    ``identity`` is the client's :func:`simulator.version.code_identity` (the
    package version and a hash of its sources); a worker whose own differs refuses
    the plugin (the client's registration raises :class:`CodeMismatch`) and closes,
    so no task of the run lands on other code (a worker joining later closes too).

    The numba cache is ``msp-sim/numba/<worker>`` under the user's cache directory
    (``$XDG_CACHE_HOME`` or ``~/.cache``), each level made 0700 and its owner checked
    (:func:`simulator.private.user_cache_dir`), never a predictable folder another
    user could plant an index in; if that cannot be made, a fresh private temporary
    folder. Set before the worker imports numba (a fresh worker process has not), so
    they apply. Dask's threads are the parallelism (a worker of k threads runs k tasks
    at once), so each task runs the engine on its own thread instead of every task
    starting one engine thread per core (``local:2`` on 2 cores ran 4).
    """

    name = "msp-sim-engine"

    def __init__(self, identity: tuple[str, str] | None = None):
        super().__init__()
        self.identity = tuple(identity) if identity is not None else code_identity()

    def setup(self, worker: Any) -> None:
        mine = code_identity()
        if mine != self.identity:
            message = (f"the Dask worker {worker.address} runs msp-sim {mine[0]} (sources "
                       f"{mine[1][:12]}), the client {self.identity[0]} (sources "
                       f"{self.identity[1][:12]}); allowed: workers on the same msp-sim "
                       "as the client")
            asyncio.get_running_loop().create_task(worker.close(reason="msp-sim mismatch",
                                                                nanny=True))
            raise CodeMismatch(message)
        if "numba" not in sys.modules:
            os.environ["NUMBA_CACHE_DIR"] = numba_cache_dir(worker.name)
            os.environ["NUMBA_NUM_THREADS"] = "1"
        from .warmup import engine_ready

        engine_ready()


def numba_cache_dir(worker_name: Any) -> str:
    """This user's private numba cache folder for a worker (see :class:`EngineCache`)."""
    from ..private import user_cache_dir

    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(worker_name))[:64] or "worker"
    try:
        return str(user_cache_dir("numba", f"worker-{name}"))
    except OSError:
        return tempfile.mkdtemp(prefix="msp-sim-numba-")
