"""Scale-out on Dask: a run's chunks of paths as tasks on a cluster, bit-identical.

``simulate_distributed(config, client=...)`` runs exactly what
:func:`simulator.api.simulate` runs, chunk for chunk (the same
:func:`~simulator.runner.plan.chunk_ranges`, the same per-path seeds and parameter
draws), but each chunk is a task on a Dask worker. The client places the
chunks' trajectories in the run's array as they arrive, or, for a run that
keeps statistics only, folds them into :class:`~simulator.results.monthly_stats.MonthlyStats`
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
(:class:`simulator.runner._dask_plugin.EngineCache`), so workers never write one cache
at the same time (numba issues 4807 and 7952).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, ConfigError
from ..config.errors import MISSING
from ..model.sampling import param_dtype
from .collect import Collector
from .plan import Plan, RunOptions
from .progress import progress_callback

__all__ = ["DEFAULT_TASK_PATHS", "close", "connect", "execute", "map_tasks",
           "simulate_distributed", "using"]

DEFAULT_TASK_PATHS = 65_536
"""Paths of a statistics-only run's task (about a second of one worker's engine)."""


_TCP = re.compile(r"tcp://([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\]):(\d{1,5})")
"""A scheduler address: ``tcp://`` host name, IPv4 or ``[IPv6]``, ``:`` port."""


def connect(scheduler: str, source: str = "scheduler", timeout: float = 10.0) -> Any:
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
        from ..formatting import printable

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
    plan = Plan.of(config, n_paths, seed, RunOptions(chunk_size, None, keep_paths),
                   first_path=first_path)
    return execute(plan, client, window=window, progress=progress, task_paths=task_paths)[0]


def execute(plan: Plan, client: Any, *, window: int | None = None,
            progress: Callable[[int, int], None] | bool | None = None,
            task_paths: int | None = None
            ) -> tuple[Any, dict[tuple[str, int], np.ndarray]]:
    """Run ``plan`` on ``client``'s workers: its result and asked-for columns, the same
    bits as :func:`simulator.runner.local.execute`.

    With trajectories kept, a task is a chunk of ``chunk_size`` paths and sends
    them back. Without, the first chunk (the pilot that fixes the statistics'
    bins) does, and every later task of ``task_paths`` paths (default
    :data:`DEFAULT_TASK_PATHS`, run on its worker ``chunk_size`` paths at a
    time) folds its paths there and sends back a
    :class:`~simulator.results.monthly_stats.StatsPartial` (a few MB), merged here in
    path order.
    """
    from distributed import as_completed

    task_paths = (max(plan.chunk_size, DEFAULT_TASK_PATHS) if task_paths is None
                  else int(task_paths))
    if task_paths < 1:
        raise ValueError(f"task_paths must be at least 1, got {task_paths}")
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = max(2, 2 * workers) if window is None else max(1, int(window))
    report = progress_callback(progress, plan.n_paths, desc="simulating on the cluster")
    keep_paths = plan.keep_paths
    folds = plan.folds
    # with trajectories a task is a chunk; without, the pilot chunk (when it folds),
    # then tasks of task_paths (on block boundaries by default)
    ranges = plan.ranges(None if keep_paths else task_paths)
    collector = Collector(plan)

    plan_future = client.scatter(plan, broadcast=True, hash=False)
    template: Any = None  # the statistics' bins, on every worker once the pilot is folded
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
               and (not folds or submitted == 0 or template is not None)):
            start, stop = ranges[submitted]
            key = f"msp-sim-chunk-{run_id}-{submitted}"
            task_of[key] = submitted
            if keep_paths or (folds and submitted == 0):
                future = client.submit(_chunk_task, plan_future, start, stop, key=key,
                                       pure=False)
            elif not folds:
                future = client.submit(_outcomes_task, plan_future, start, stop, key=key,
                                       pure=False)
            else:
                future = client.submit(_stats_task, plan_future, start, stop, template,
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
            if keep_paths or (folds and k == 0):
                collector.place(start, stop, *payload)
            else:
                collector.first_passage[start:stop] = payload[1]
                collector.insolvency_month[start:stop] = payload[2]
                collector.place_columns(start, stop, payload[3], payload[4])
            if folds and collector.fold_in_order(k, payload[0]):
                template = client.scatter(collector.stats.empty(), broadcast=True, hash=False)
            done += stop - start
            report(done)
            submit_more(collector.waiting)
    finally:
        report(None)
        for future in futures.futures:  # stopped early (Ctrl-C, an error): cancel the rest
            future.cancel()
    return collector.result()


def _chunk_task(plan: Plan, start: int, stop: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One chunk on a worker: the plan's paths ``start..stop-1``."""
    return plan.simulate(start, stop)


_Outputs = tuple[Any, np.ndarray, np.ndarray, list[np.ndarray], np.ndarray | None]
"""What a task without trajectories sends back: its partial statistics (or None), first
passages, insolvency months, columns and parameters (or None)."""


def _task_outputs(plan: Plan, start: int, stop: int
                  ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray | None,
                             Callable[..., Any]]:
    """A task's first passages, insolvency months, gathered columns and (where the plan
    keeps them) parameters, and the function that simulates its paths ``a..b-1`` into
    them (returning the output)."""
    n = stop - start
    fp = np.empty(n, dtype=np.int64)
    im = np.empty(n, dtype=np.int64)
    columns = [np.empty(plan.column_shape(n, c)) for c in plan.gathered]
    params = np.empty(n, dtype=param_dtype()) if plan.keeps_params else None

    def simulate(a: int, b: int) -> np.ndarray:
        out, fp[a - start:b - start], im[a - start:b - start], p = plan.simulate(a, b)
        for column, value in zip(columns, plan.take(out, im[a - start:b - start], p),
                                 strict=True):
            column[a - start:b - start] = value
        if params is not None:
            params[a - start:b - start] = p
        return out

    return fp, im, columns, params, simulate


def _stats_task(plan: Plan, start: int, stop: int, template: Any) -> _Outputs:
    """A statistics task on a worker: the plan's paths ``start..stop-1`` folded into a
    StatsPartial, with their first passages, insolvency months and the gathered
    columns."""
    fp, im, columns, params, simulate = _task_outputs(plan, start, stop)
    return template.partial(start, stop, simulate, plan.chunk_size), fp, im, columns, params


def _outcomes_task(plan: Plan, start: int, stop: int) -> _Outputs:
    """An outcomes task on a worker (a plan of outcomes only): the first passages,
    insolvency months, columns and parameters (as a local run keeps them) of paths
    ``start..stop-1``, ``chunk_size`` at a time."""
    fp, im, columns, params, simulate = _task_outputs(plan, start, stop)
    for a in range(start, stop, plan.chunk_size):
        simulate(a, min(a + plan.chunk_size, stop))
    return None, fp, im, columns, params


def map_tasks(func: Callable[..., Any], tasks: Sequence[tuple[int, tuple[Any, ...]]],
              done: Callable[[int, Any], None], client: Any, *, shared: Any = None,
              window: int | None = None) -> None:
    """``done(k, func(*args))`` for each task ``(k, args)`` as it finishes on
    ``client``'s workers, at most ``window`` in flight (default: all); ``shared``, if
    given, is sent to every worker once and is the first argument."""
    from distributed import as_completed

    lead = () if shared is None else (client.scatter(shared, broadcast=True, hash=False),)
    window = len(tasks) if window is None else max(1, int(window))
    queue = list(tasks)
    futures = as_completed()
    index: dict[str, int] = {}

    def submit_more() -> None:
        while queue and futures.count() < window:
            k, args = queue.pop(0)
            future = client.submit(func, *lead, *args, pure=False)
            index[future.key] = k
            futures.add(future)

    try:
        submit_more()
        for future in futures:
            done(index.pop(future.key), future.result())
            future.release()
            submit_more()
    finally:
        for future in futures.futures:  # stopped early (Ctrl-C, an error): cancel the rest
            future.cancel()


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
