"""Run a plan here or on a Dask cluster, and any list of tasks the same way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..results import SimulationResult
from .plan import Plan, RunOptions

__all__ = ["map_ordered", "run", "using"]


def run(config: Config | str | Path, n_paths: int | None = None,
        seed: int | np.random.Generator | None = None, options: RunOptions | None = None, *,
        first_path: int = 0, columns: Sequence[tuple[str, int]] = ()
        ) -> tuple[SimulationResult, dict[tuple[str, int], np.ndarray]]:
    """Run the engine: a run's result and every path's value of the asked-for
    ``(metric, month)`` columns (month ``-1``: the horizon), here or, with
    ``options.client``, on a Dask cluster; the same bits."""
    options = RunOptions() if options is None else options
    plan = Plan.of(config, n_paths, seed, options, first_path=first_path, columns=columns)
    if options.client is None:
        from . import local

        return local.execute(plan, options.progress)
    from . import dask

    with dask.using(options.client) as client:
        return dask.execute(plan, client, progress=options.progress)


def using(client: Any) -> Any:
    """The Dask client of ``client`` (a client, ``None``, or a scheduler string
    connected for the ``with`` block): :func:`simulator.runner.dask.using`."""
    from .dask import using as _using

    return _using(client)


def map_ordered(func: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], *,
                client: Any = None, window: int | None = None, checkpoint: Any = None,
                keys: Sequence[str] | None = None,
                accept: Callable[[int, Any], bool] | None = None,
                done: Callable[[int, Any, bool], None] | None = None,
                shared: Any = None) -> list[Any]:
    """``[func(*args) for args in tasks]``, here or as tasks on a Dask cluster.

    Parameters
    ----------
    client : distributed.Client or str, optional
        Run each task on the cluster (a client, or a scheduler string connected for
        this call); the results are the same whatever runs them.
    window : int, optional
        Tasks in flight on the cluster (default: all).
    checkpoint : simulator.output.Checkpoint, optional
        With ``keys``: a task kept under its key (and accepted by ``accept(k,
        value)``, if given) is not run again; each finished task is kept.
    done : callable, optional
        ``done(k, value, kept)`` as each task is taken from the checkpoint (first,
        ``kept`` true) or finishes.
    shared : object, optional
        The first argument of every task, sent to each worker once.
    """
    results: list[Any] = [None] * len(tasks)
    todo = []
    for k, args in enumerate(tasks):
        kept = None if checkpoint is None or keys is None else checkpoint.load(keys[k])
        if kept is not None and (accept is None or accept(k, kept)):
            results[k] = kept
            if done is not None:
                done(k, kept, True)
        else:
            todo.append((k, tuple(args)))

    def finish(k: int, value: Any) -> None:
        results[k] = value
        if checkpoint is not None and keys is not None:
            checkpoint.save(keys[k], value)
        if done is not None:
            done(k, value, False)

    if client is None or not todo:
        from .local import map_tasks

        map_tasks(func, todo, finish, shared=shared)
    else:
        from . import dask

        with dask.using(client) as dask_client:
            dask.map_tasks(func, todo, finish, dask_client, shared=shared, window=window)
    return results
