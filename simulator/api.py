"""Python API: config in, :class:`~simulator.results.SimulationResult` out."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, load_config
from .engine import new_output, run_chunk
from .engine._quantiles import column_quantiles
from .model.metrics import METRICS
from .model.sampling import draw_parameters, param_dtype, path_seeds, prepare
from .results import KEEP_PATHS_LIMIT, SimulationResult
from .results.monthly_stats import PILOT_PATHS, MonthlyStats

__all__ = ["DEFAULT_CHUNK_SIZE", "KEEP_PATHS_LIMIT", "chunk_ranges", "engine_ready",
           "load_config", "run_settings", "simulate"]

DEFAULT_CHUNK_SIZE = 8192


def as_seed(seed: Any) -> int:
    """Accept an int or a ``numpy.random.Generator`` (QuantEcon style)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or a Generator, got {seed!r}")
    return int(seed)


def engine_ready(notice: Callable[[], None] | None = None, *, statistics: bool = False,
                 delay: float = 0.5) -> float:
    """Load the compiled engine, compiling it if it is not cached yet.

    The kernels are compiled on their first use after an install or an
    update (about 7 s on the project's 2-core VM) and cached on disk
    (numba's ``cache=True``); later processes load them in ~0.15 s.
    ``make install`` calls this once, so that the first run is a warm one.
    The kernel of the kept trajectories' quantiles
    (:mod:`simulator.engine._quantiles`) is loaded with the engine.

    Parameters
    ----------
    notice : callable, optional
        Called (once, from a timer thread) if loading takes longer than
        ``delay`` seconds, i.e. when the engine is being compiled: the
        command line prints a message with it.
    statistics : bool, optional
        Also load (compile) the statistics fold of runs past the trajectory
        limit; not needed by smaller runs.
    delay : float, optional
        Seconds before ``notice`` is called.

    Returns
    -------
    float
        Seconds it took.
    """
    from .config import config_from_dict

    start = time.perf_counter()
    timer = threading.Timer(delay, notice) if notice is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        config = config_from_dict({"simulation": {"months": 2}})
        run = prepare(config)
        out, _, _ = run_chunk(draw_parameters(config, 0, 0, 1), path_seeds(0, 0, 1), run)
        column_quantiles(out[:, 0], (0.5,))  # the kept trajectories' quantiles
        if statistics:
            MonthlyStats.from_first_chunk(METRICS, out)
    finally:
        if timer is not None:
            timer.cancel()
    return time.perf_counter() - start


class _NoBar:
    """The progress bar of a run without one."""

    total: int | None = None

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def update(self, _n: int) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def progress_bar(total: int | None, progress: bool | None, desc: str = "simulating",
                 unit: str = "path") -> Any:
    """The progress bar of every simulating function: a tqdm bar when ``progress`` is
    true, or when it is ``None`` and stderr is a terminal (and ``MSP_SIM_NO_PROGRESS``
    is not set); otherwise one that shows nothing (without importing tqdm, whose
    ``tqdm.auto`` imports asyncio: ~20 ms of a warm start for a bar nobody sees)."""
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("MSP_SIM_NO_PROGRESS")
    if not progress:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc=desc, leave=False)


def run_settings(config: Config | str | Path, n_paths: int | None,
                 seed: int | np.random.Generator | None) -> tuple[Config, int, int]:
    """A run's config (loaded if a path), number of paths and seed, defaults filled in
    from ``config.simulation`` and checked (what :func:`simulate` and
    :func:`simulator.distributed.simulate_distributed` start from)."""
    if not isinstance(config, Config):
        config = load_config(config)
    n_paths = config.simulation.paths if n_paths is None else int(n_paths)
    if n_paths < 1:
        raise ValueError(f"n_paths must be at least 1, got {n_paths}")
    seed = config.simulation.seed if seed is None else as_seed(seed)
    return config, n_paths, seed


def chunk_ranges(n_paths: int, chunk_size: int, keep_paths: bool):
    """Path ranges of the run's chunks.

    Without trajectories the first chunk is always the first
    :data:`~simulator.monthly_stats.PILOT_PATHS` paths: they fix the
    statistics' bins and shift, and every later path is folded in path order,
    so the statistics are the same whatever ``chunk_size``.
    """
    start = 0
    if not keep_paths:
        start = min(PILOT_PATHS, n_paths)
        yield 0, start
    while start < n_paths:
        stop = min(start + chunk_size, n_paths)
        yield start, stop
        start = stop


def simulate(
    config: Config | str | Path,
    n_paths: int | None = None,
    seed: int | np.random.Generator | None = None,
    *,
    chunk_size: int | None = None,
    progress: bool | None = None,
    first_path: int = 0,
    keep_paths: bool | None = None,
    client: Any = None,
) -> SimulationResult:
    """Run the Monte Carlo simulation of a config.

    Parameters
    ----------
    config : Config or path
        A validated config, or the path of a TOML file.
    n_paths : int, optional
        Number of paths; defaults to ``config.simulation.paths``.
    seed : int or numpy.random.Generator, optional
        Run seed; defaults to ``config.simulation.seed``. The same
        ``(config, seed)`` gives bit-identical paths whatever ``n_paths``
        (prefix stability), ``chunk_size`` or number of threads.
    chunk_size : int, optional
        Paths per engine call (memory vs progress granularity).
    progress : bool, optional
        Show a progress bar; default: only when stderr is a terminal.
    first_path : int, optional
        Index of the first path: simulates paths ``first_path ..
        first_path + n_paths - 1`` of the run, exactly as a run of
        ``first_path + n_paths`` paths would (so a run can be extended
        chunk by chunk, e.g. until a precision target is met).
    keep_paths : bool, optional
        Keep every path's trajectories (``result["mrr"]``) and parameters.
        Default: only for runs of at most :data:`KEEP_PATHS_LIMIT` paths;
        larger runs accumulate per-month moments and histograms chunk by
        chunk (``result.stats``) and keep first-passage times only, so memory
        stays flat in the number of paths.
    client : distributed.Client or str, optional
        Run each chunk as a task on a Dask cluster
        (:func:`simulator.distributed.simulate_distributed`): a client, or a
        scheduler as ``"local:N"`` or ``"tcp://HOST:PORT"`` (connected for this
        run and closed after). The result is the same bits.

    Returns
    -------
    SimulationResult
    """
    if client is not None:
        from .runner.dask import simulate_distributed, using

        with using(client) as dask_client:
            return simulate_distributed(config, n_paths, seed, client=dask_client,
                                        chunk_size=chunk_size, keep_paths=keep_paths,
                                        first_path=first_path, progress=progress)
    config, n_paths, seed = run_settings(config, n_paths, seed)
    if first_path < 0:
        raise ValueError(f"first_path must be non-negative, got {first_path}")
    total = first_path + n_paths
    chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    if keep_paths is None:
        keep_paths = n_paths <= KEEP_PATHS_LIMIT

    run = prepare(config)
    if keep_paths:
        # The engine writes every chunk straight into the run's array; each
        # metric is a (paths, months + 1) view of it.
        trajectories = new_output(n_paths, run.months, touch=False)
        metrics = {name: trajectories[:, k] for k, name in enumerate(METRICS)}
        params: np.ndarray | None = np.empty(n_paths, dtype=param_dtype())
    else:
        # One buffer, reused by every chunk: no fresh memory to fault in per chunk.
        buffer = new_output(min(max(chunk_size, PILOT_PATHS), n_paths), run.months)
        metrics, params = {}, None
    stats = None
    first_passage = np.empty(n_paths, dtype=np.int64)
    insolvency_month = np.empty(n_paths, dtype=np.int64)
    seeds = path_seeds(seed, first_path, total)

    with progress_bar(n_paths, progress) as bar:
        for start, stop in chunk_ranges(n_paths, chunk_size, keep_paths):
            block = draw_parameters(config, seed, first_path + start, first_path + stop,
                                    n_paths=total)
            target = trajectories[start:stop] if keep_paths else buffer[:stop - start]
            out, fp, im = run_chunk(block, seeds[start:stop], run, out=target)
            first_passage[start:stop] = fp
            insolvency_month[start:stop] = im
            if params is not None:
                params[start:stop] = block
            elif stats is None:
                stats = MonthlyStats.from_first_chunk(METRICS, out)
            else:
                stats.add(out)
            bar.update(stop - start)
    return SimulationResult(config=config, seed=seed, metrics=metrics,
                            first_passage=first_passage, params=params, stats=stats,
                            insolvency_month=insolvency_month)
