"""Python API: config in, :class:`~simulator.results.SimulationResult` out (a face over
:mod:`simulator.runner`, the one way to run the engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, load_config
from .results import KEEP_PATHS_LIMIT, SimulationResult
from .runner import (
    DEFAULT_CHUNK_SIZE,
    RunOptions,
    as_seed,
    chunk_ranges,
    engine_ready,
    progress_bar,
    run,
    run_settings,
)

__all__ = ["DEFAULT_CHUNK_SIZE", "KEEP_PATHS_LIMIT", "as_seed", "chunk_ranges", "engine_ready",
           "load_config", "progress_bar", "run_settings", "simulate"]


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
        (:mod:`simulator.runner.dask`): a client, or a
        scheduler as ``"local:N"`` or ``"tcp://HOST:PORT"`` (connected for this
        run and closed after). The result is the same bits.

    Returns
    -------
    SimulationResult
    """
    options = RunOptions(chunk_size=chunk_size, progress=progress, keep_paths=keep_paths,
                         client=client)
    return run(config, n_paths, seed, options, first_path=first_path)[0]
