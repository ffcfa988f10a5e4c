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
unreachable one is a clear error). Each worker checks that it runs the client's msp-sim
(version and a hash of the sources; another is refused), gets its own private numba
cache directory and compiles or loads the engine once before any task
(:class:`simulator._dask_plugin.EngineCache`), so workers never write one cache at the same time
(numba issues 4807 and 7952).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, ConfigError
from .config.errors import MISSING

__all__ = ["DEFAULT_TASK_PATHS", "close", "connect", "run_chunks", "simulate_distributed",
           "using"]

DEFAULT_TASK_PATHS = 65_536
"""Paths of a statistics-only run's task (about a second of one worker's engine)."""


def _block(config: Config, seed: int, first: int, stop: int, total: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One chunk on a worker: paths ``first..stop-1`` of a run of ``total`` paths."""
    from .engine import run_chunk
    from .sampling import draw_parameters, path_seeds, prepare

    params = draw_parameters(config, seed, first, stop, n_paths=total)
    out, fp, im = run_chunk(params, path_seeds(seed, first, stop), prepare(config))
    return out, fp, im, params


_TCP = re.compile(r"tcp://([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\]):(\d{1,5})")
"""A scheduler address: ``tcp://`` host name, IPv4 or ``[IPv6]``, ``:`` port."""


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
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        if not 1 <= workers <= cores:  # more processes than cores only add memory
            raise ConfigError(source, [("", MISSING, f'"{scheduler}": {workers} worker '
                                        f"processes on {cores} cores; allowed: local:N with "
                                        f"1 <= N <= {cores} (the cores here), or "
                                        "tcp://HOST:PORT")])
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
    elif text.startswith("tcp://"):
        from .formatting import printable

        match = _TCP.fullmatch(text)
        if match is None or not 1 <= int(match.group(2)) <= 65535:
            raise ConfigError(source, [("", MISSING, f'"{printable(scheduler)}": not a '
                                        "scheduler address; allowed: tcp://HOST:PORT (a host "
                                        "name, an IPv4 address or [an IPv6 address], and a "
                                        "port 1 to 65535), or local:N")])
        try:
            client = Client(text, timeout=timeout)
        except (OSError, ValueError) as exc:  # TimeoutError is an OSError
            raise ConfigError(source, [("", MISSING, f"cannot reach the scheduler at {text} "
                                        f"({type(exc).__name__}: {exc}); allowed: the address "
                                        "of a running dask scheduler")]) from None
    else:
        raise ConfigError(source, [("", MISSING, f'"{scheduler}": allowed: local:N or '
                                    "tcp://HOST:PORT")])
    from ._dask_plugin import CodeMismatch, EngineCache

    try:
        client.register_plugin(EngineCache())
    except CodeMismatch as exc:
        close(client)
        raise ConfigError(source, [("", MISSING, str(exc))]) from None
    return client


def simulate_distributed(
    config: Config | str | Path,
    n_paths: int | None = None,
    seed: int | np.random.Generator | None = None,
    *,
    client: Any,
    chunk_size: int | None = None,
    keep_paths: bool | None = None,
    first_path: int = 0,
    window: int | None = None,
    progress: Callable[[int, int], None] | bool | None = None,
    task_paths: int | None = None,
) -> Any:
    """:func:`simulator.api.simulate` with every chunk a task on ``client``'s workers.

    Parameters
    ----------
    client : distributed.Client
        From :func:`connect` (or any client whose workers can import msp-sim).
    window : int, optional
        Tasks in flight or waiting to be folded (default: twice the workers,
        at least 2): the client's memory bound.
    task_paths : int, optional
        Paths of a task of a run without trajectories (default
        :data:`DEFAULT_TASK_PATHS`; with trajectories a task is a chunk).
    progress : callable or bool, optional
        ``progress(paths_done, n_paths)`` after each chunk arrives; ``True``
        shows a progress bar of the finished tasks (default: only when stderr
        is a terminal).

    Returns
    -------
    SimulationResult
        Bit-identical to ``simulate(config, n_paths, seed, chunk_size=chunk_size,
        keep_paths=keep_paths, first_path=first_path)``.
    """
    return run_chunks(config, n_paths, seed, client=client, chunk_size=chunk_size,
                      keep_paths=keep_paths, first_path=first_path, window=window,
                      progress=progress, task_paths=task_paths)[0]


def run_chunks(
    config: Config | str | Path,
    n_paths: int | None,
    seed: int | np.random.Generator | None,
    *,
    client: Any,
    chunk_size: int | None = None,
    keep_paths: bool | None = None,
    first_path: int = 0,
    window: int | None = None,
    progress: Callable[[int, int], None] | bool | None = None,
    columns: Sequence[tuple[str, int]] = (),
    task_paths: int | None = None,
) -> tuple[Any, dict[tuple[str, int], np.ndarray]]:
    """:func:`simulate_distributed`, plus every path's value of some ``(metric, month)``
    columns (what :func:`simulator.analysis.compare.simulate_columns` returns).

    With trajectories kept, a task is a chunk of ``chunk_size`` paths and sends
    them back. Without, the first chunk (the pilot that fixes the statistics'
    bins) does, and every later task of ``task_paths`` paths (default
    :data:`DEFAULT_TASK_PATHS`, run on its worker ``chunk_size`` paths at a
    time) folds its paths there and sends back a
    :class:`~simulator.monthly_stats.StatsPartial` (a few MB), merged here in
    path order.
    """
    from distributed import as_completed

    from .api import DEFAULT_CHUNK_SIZE, KEEP_PATHS_LIMIT, chunk_ranges, run_settings
    from .metrics import METRICS
    from .monthly_stats import MonthlyStats
    from .results import SimulationResult
    from .sampling import param_dtype

    config, n_paths, seed = run_settings(config, n_paths, seed)
    if first_path < 0:
        raise ValueError(f"first_path must be non-negative, got {first_path}")
    chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    keep_paths = n_paths <= KEEP_PATHS_LIMIT if keep_paths is None else bool(keep_paths)
    task_paths = max(chunk_size, DEFAULT_TASK_PATHS) if task_paths is None else int(task_paths)
    if task_paths < 1:
        raise ValueError(f"task_paths must be at least 1, got {task_paths}")
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = max(2, 2 * workers) if window is None else max(1, int(window))
    report = _progress_callback(progress, n_paths)

    months = config.simulation.months
    if keep_paths:
        trajectories = np.empty((n_paths, len(METRICS), months + 1))
        params: np.ndarray | None = np.empty(n_paths, dtype=param_dtype())
        ranges = list(chunk_ranges(n_paths, chunk_size, keep_paths=True))
    else:
        params = None
        # the pilot chunk, then tasks of task_paths (on block boundaries by default)
        ranges = list(chunk_ranges(n_paths, task_paths, keep_paths=False))
    first_passage = np.empty(n_paths, dtype=np.int64)
    insolvency_month = np.empty(n_paths, dtype=np.int64)
    column_index = [(METRICS.index(name), month) for name, month in columns]
    values = {c: np.empty(n_paths) for c in columns}
    stats: MonthlyStats | None = None

    total = first_path + n_paths
    config_future = client.scatter(config, broadcast=True, hash=False)
    template: Any = None  # the statistics' bins, on every worker once the pilot is folded
    pending: dict[int, Any] = {}
    next_fold = 0  # the next task to fold, in path order
    done = 0
    submitted = 0
    futures = as_completed()
    task_of: dict[str, int] = {}
    run_id = os.urandom(6).hex()

    def submit_more(waiting: int) -> None:
        """Submit tasks while at most ``window`` are in flight or waiting to be folded
        (a statistics task only once the pilot has fixed the bins)."""
        nonlocal submitted
        while (submitted < len(ranges) and futures.count() + waiting < window
               and (keep_paths or submitted == 0 or template is not None)):
            start, stop = ranges[submitted]
            key = f"msp-sim-chunk-{run_id}-{submitted}"
            task_of[key] = submitted
            if keep_paths or submitted == 0:
                future = client.submit(_block, config_future, seed, first_path + start,
                                       first_path + stop, total, key=key, pure=False)
            else:
                future = client.submit(_stats_task, config_future, seed, first_path, start,
                                       stop, total, template, chunk_size, column_index,
                                       key=key, pure=False)
            futures.add(future)
            submitted += 1

    try:
        submit_more(0)
        for future in futures:
            k = task_of.pop(future.key)
            payload = future.result()
            future.release()
            start, stop = ranges[k]
            first_passage[start:stop] = payload[1]
            insolvency_month[start:stop] = payload[2]
            if keep_paths or k == 0:
                block = payload[0]
                for c, (m, month) in zip(columns, column_index, strict=True):
                    values[c][start:stop] = block[:, m, month]
            else:
                for c, column in zip(columns, payload[3], strict=True):
                    values[c][start:stop] = column
            if keep_paths:
                trajectories[start:stop] = payload[0]
                assert params is not None
                params[start:stop] = payload[3]
            else:
                pending[k] = payload[0]
                while next_fold in pending:  # merge in path order: the sums are sequential
                    part = pending.pop(next_fold)
                    if stats is None:
                        stats = MonthlyStats.from_first_chunk(METRICS, part)
                        template = client.scatter(stats.empty(), broadcast=True, hash=False)
                    else:
                        stats.merge(part)
                    next_fold += 1
            done += stop - start
            report(done)
            submit_more(len(pending))
    finally:
        report(None)
        for future in futures.futures:  # stopped early (Ctrl-C, an error): cancel the rest
            future.cancel()
    metrics = ({name: trajectories[:, k] for k, name in enumerate(METRICS)} if keep_paths
               else {})
    result = SimulationResult(config=config, seed=seed, metrics=metrics,
                              first_passage=first_passage, params=params, stats=stats,
                              insolvency_month=insolvency_month)
    return result, values


def _stats_task(config: Config, seed: int, offset: int, start: int, stop: int, total: int,
                template: Any, chunk_size: int, column_index: Sequence[tuple[int, int]]
                ) -> tuple[Any, np.ndarray, np.ndarray, list[np.ndarray]]:
    """A statistics task on a worker: the result's paths ``start..stop-1`` (the run's
    ``offset + start ..``) folded into a StatsPartial, with their first passages,
    insolvency months and the asked-for columns."""
    from .engine import run_chunk
    from .sampling import draw_parameters, path_seeds, prepare

    run = prepare(config)
    n = stop - start
    fp = np.empty(n, dtype=np.int64)
    im = np.empty(n, dtype=np.int64)
    columns = [np.empty(n) for _ in column_index]

    def simulate(a: int, b: int) -> np.ndarray:
        params = draw_parameters(config, seed, offset + a, offset + b, n_paths=total)
        out, fp[a - start:b - start], im[a - start:b - start] = run_chunk(
            params, path_seeds(seed, offset + a, offset + b), run)
        for column, (m, month) in zip(columns, column_index, strict=True):
            column[a - start:b - start] = out[:, m, month]
        return out

    return template.partial(start, stop, simulate, chunk_size), fp, im, columns


def _progress_callback(progress: Callable[[int, int], None] | bool | None, total: int
                       ) -> Callable[[int | None], None]:
    """``report(done)`` after each finished task, ``report(None)`` at the end: a user's
    callback, a tqdm bar of finished paths (``True``; ``None``: when stderr is a
    terminal), or nothing."""
    if callable(progress):
        def call(done: int | None) -> None:
            if done is not None:
                progress(done, total)
        return call
    from .api import progress_bar

    bar = progress_bar(total, progress, desc="simulating on the cluster")
    shown = 0

    def update(done: int | None) -> None:
        nonlocal shown
        if done is None:
            bar.close()
        else:
            bar.update(done - shown)
            shown = done
    return update


@contextlib.contextmanager
def using(client: Any) -> Iterator[Any]:
    """The Dask client to use: ``client`` itself, ``None`` (no cluster), or for a
    scheduler string (``"local:N"``, ``"tcp://HOST:PORT"``) a client connected
    here and closed, with its local cluster, on leaving."""
    if not isinstance(client, str):
        yield client
        return
    owned = connect(client, source="scheduler")
    try:
        yield owned
    finally:
        close(owned)


def close(client: Any) -> None:
    """Close a client from :func:`connect` and, for ``local:N``, its cluster."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()
