"""Scale-out on Dask: a run's chunks of paths as tasks on a cluster, bit-identical.

``simulate_distributed(config, client=...)`` runs exactly what
:func:`simulator.api.simulate` runs, chunk for chunk (the same
:func:`~simulator.api.chunk_ranges`, the same per-path seeds and parameter
draws), but each chunk is a task on a Dask worker. The client places the
chunks' trajectories in the run's array as they arrive, or, for a run that
keeps statistics only, folds them into :class:`~simulator.monthly_stats.MonthlyStats`
in path order (the fold is sequential, so this is what keeps the statistics
bit-identical); at most ``window`` chunks are in flight or waiting, so the
client's memory stays bounded. Results are the same bits as a local run for
any number of workers, and a task lost with a worker is recomputed by Dask
with the same seeds.

``connect("local:N")`` starts a ``LocalCluster`` of N single-threaded worker
processes; ``connect("tcp://host:port")`` joins a running scheduler (an
unreachable one is a clear error). Each worker gets its own numba cache
directory and compiles or loads the engine once before any task
(:class:`EngineCache`), so workers never write one cache at the same time
(numba issues 4807 and 7952).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

from .config import Config, ConfigError
from .config.errors import MISSING

try:  # Dask is an optional dependency (msp-sim[dask])
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # pragma: no cover - without Dask, connect() says how to get it
    WorkerPlugin = object

__all__ = ["EngineCache", "connect", "simulate_distributed"]


def _block(config: Config, seed: int, first: int, stop: int, total: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One chunk on a worker: paths ``first..stop-1`` of a run of ``total`` paths."""
    from .engine import run_chunk
    from .sampling import draw_parameters, path_seeds, prepare

    params = draw_parameters(config, seed, first, stop, n_paths=total)
    out, fp, im = run_chunk(params, path_seeds(seed, first, stop), prepare(config))
    return out, fp, im, params


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


def connect(scheduler: str, source: str = "--scheduler", timeout: float = 10.0) -> Any:
    """A Dask client for ``"local:N"`` (N worker processes here) or ``"tcp://HOST:PORT"``.

    Raises
    ------
    ConfigError
        A malformed scheduler, Dask not installed, or a scheduler that cannot be
        reached (its address named), before any work.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(source, [("", MISSING, "needs Dask; allowed: after pip install "
                                    "'msp-sim[dask]'")]) from None
    text = scheduler.strip()
    if text.startswith("local:"):
        try:
            workers = int(text.removeprefix("local:"))
        except ValueError:
            workers = 0
        if not 1 <= workers <= 512:
            raise ConfigError(source, [("", MISSING, f'"{scheduler}": allowed: local:N with '
                                        "1 <= N <= 512 worker processes, or tcp://HOST:PORT")])
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
    elif text.startswith("tcp://"):
        try:
            client = Client(text, timeout=timeout)
        except OSError as exc:
            raise ConfigError(source, [("", MISSING, f"cannot reach the scheduler at {text} "
                                        f"({exc}); allowed: the address of a running "
                                        "dask scheduler")]) from None
    else:
        raise ConfigError(source, [("", MISSING, f'"{scheduler}": allowed: local:N or '
                                    "tcp://HOST:PORT")])
    client.register_plugin(EngineCache())
    return client


def simulate_distributed(
    config: Config | str,
    n_paths: int | None = None,
    seed: int | np.random.Generator | None = None,
    *,
    client: Any,
    chunk_size: int | None = None,
    keep_paths: bool | None = None,
    window: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """:func:`simulator.api.simulate` with every chunk a task on ``client``'s workers.

    Parameters
    ----------
    client : distributed.Client
        From :func:`connect` (or any client whose workers can import msp-sim).
    window : int, optional
        Chunks in flight or waiting to be folded (default: twice the workers,
        at least 2): the client's memory bound.
    progress : callable, optional
        ``progress(paths_done, n_paths)`` after each chunk arrives.

    Returns
    -------
    SimulationResult
        Bit-identical to ``simulate(config, n_paths, seed, chunk_size=chunk_size,
        keep_paths=keep_paths)``.
    """
    from distributed import as_completed

    from .api import DEFAULT_CHUNK_SIZE, KEEP_PATHS_LIMIT, chunk_ranges, run_settings
    from .metrics import METRICS
    from .monthly_stats import MonthlyStats
    from .results import SimulationResult
    from .sampling import param_dtype

    config, n_paths, seed = run_settings(config, n_paths, seed)
    chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else int(chunk_size)
    keep_paths = n_paths <= KEEP_PATHS_LIMIT if keep_paths is None else bool(keep_paths)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = max(2, 2 * workers) if window is None else max(1, int(window))

    months = config.simulation.months
    if keep_paths:
        trajectories = np.empty((n_paths, len(METRICS), months + 1))
        params: np.ndarray | None = np.empty(n_paths, dtype=param_dtype())
    else:
        params = None
    first_passage = np.empty(n_paths, dtype=np.int64)
    insolvency_month = np.empty(n_paths, dtype=np.int64)
    stats: MonthlyStats | None = None

    ranges = list(chunk_ranges(n_paths, chunk_size, keep_paths))
    config_future = client.scatter(config, broadcast=True)
    pending: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    next_fold = 0  # the next chunk to fold, in path order
    done = 0
    submitted = 0
    futures = as_completed()
    chunk_of: dict[str, int] = {}
    run_id = os.urandom(6).hex()

    def submit(k: int) -> None:
        start, stop = ranges[k]
        key = f"msp-sim-chunk-{run_id}-{k}"
        chunk_of[key] = k
        futures.add(client.submit(_block, config_future, seed, start, stop, n_paths,
                                  key=key, pure=False))

    while submitted < min(window, len(ranges)):
        submit(submitted)
        submitted += 1
    for future in futures:
        k = chunk_of.pop(future.key)
        block, fp, im, block_params = future.result()
        future.release()
        start, stop = ranges[k]
        first_passage[start:stop] = fp
        insolvency_month[start:stop] = im
        if keep_paths:
            trajectories[start:stop] = block
            assert params is not None
            params[start:stop] = block_params
            waiting = 0
        else:
            pending[k] = (block, fp, im, block_params)
            while next_fold in pending:  # fold in path order: the fold is sequential
                chunk = pending.pop(next_fold)[0]
                if stats is None:
                    stats = MonthlyStats.from_first_chunk(METRICS, chunk)
                else:
                    stats.add(chunk)
                next_fold += 1
            waiting = len(pending)
        done += stop - start
        if progress is not None:
            progress(done, n_paths)
        # keep at most `window` chunks in flight or waiting to be folded
        while submitted < len(ranges) and futures.count() + waiting < window:
            submit(submitted)
            submitted += 1
    metrics = ({name: trajectories[:, k] for k, name in enumerate(METRICS)} if keep_paths
               else {})
    return SimulationResult(config=config, seed=seed, metrics=metrics,
                            first_passage=first_passage, params=params, stats=stats,
                            insolvency_month=insolvency_month)
