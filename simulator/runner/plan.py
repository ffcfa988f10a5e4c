"""A run's plan: its settings, chunk ranges, per-path seeds and the columns asked for,
and the one call of the engine (:func:`run_paths`) that every executor makes."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, ConfigError, load_config
from ..engine import run_chunk
from ..model.inputs import RunInputs
from ..model.metrics import METRICS
from ..model.sampling import draw_parameters, path_seeds, prepare
from ..results import KEEP_PATHS_LIMIT
from ..results.monthly_stats import PILOT_PATHS
from ..results.value import PATH_VALUES, VALUE_METRICS, path_values_of

__all__ = ["DEFAULT_CHUNK_SIZE", "FINAL_COLUMNS", "Column", "Plan", "RunOptions", "as_seed",
           "check_chunk_size",
           "chunk_ranges", "run_paths", "run_settings"]

DEFAULT_CHUNK_SIZE = 8192


@dataclass(frozen=True)
class RunOptions:
    """How to run, not what: the keyword tail of every simulating function.

    Attributes
    ----------
    chunk_size : int, optional
        Paths per engine call (default :data:`DEFAULT_CHUNK_SIZE`).
    progress : bool or callable, optional
        Show a progress bar (default: only when stderr is a terminal).
    keep_paths : bool, optional
        Keep every path's trajectories (default: runs of at most
        :data:`~simulator.results.KEEP_PATHS_LIMIT` paths).
    client : distributed.Client or str, optional
        Run on a Dask cluster (a client, ``"local:N"`` or ``"tcp://HOST:PORT"``).
    outcomes_only : bool, optional
        The caller reads only per-path outcomes: first passages (the sustained
        break), insolvency months and the asked-for columns. No trajectories and
        no monthly statistics are made, and the engine writes only the metrics of
        those columns (``goal``, ``portfolio``, the lever scan, ``sensitivity``).
    """

    chunk_size: int | None = None
    progress: Any = None
    keep_paths: bool | None = None
    client: Any = None
    outcomes_only: bool = False

    def but(self, **changes: Any) -> RunOptions:
        """These options with some changed."""
        from dataclasses import replace

        return replace(self, **changes)


def check_chunk_size(chunk_size: int | None) -> None:
    """Refuse a chunk size below 1 (``None``: the default)."""
    if chunk_size is not None and chunk_size < 1:
        raise ConfigError("chunk_size", [("", None, f"out of range: got {chunk_size}; "
                                                    "allowed: an integer >= 1")])


def as_seed(seed: Any) -> int:
    """Accept an int or a ``numpy.random.Generator`` (QuantEcon style)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or a Generator, got {seed!r}")
    return int(seed)


def run_settings(config: Config | str | Path, n_paths: int | None,
                 seed: int | np.random.Generator | None) -> tuple[Config, int, int]:
    """A run's config (loaded if a path), number of paths and seed, defaults filled in
    from ``config.simulation`` and checked."""
    if not isinstance(config, Config):
        config = load_config(config)
    n_paths = config.simulation.paths if n_paths is None else int(n_paths)
    if n_paths < 1:
        raise ValueError(f"n_paths must be at least 1, got {n_paths}")
    seed = config.simulation.seed if seed is None else as_seed(seed)
    return config, n_paths, seed


def chunk_ranges(n_paths: int, chunk_size: int, keep_paths: bool) -> Iterator[tuple[int, int]]:
    """Path ranges of the run's chunks.

    Without trajectories the first chunk is always the first
    :data:`~simulator.results.monthly_stats.PILOT_PATHS` paths: they fix the
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


def run_paths(params: np.ndarray, seeds: np.ndarray, run: RunInputs,
              out: np.ndarray | None = None, keep: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The engine on a block of paths (:func:`simulator.engine.run_chunk`): the one
    place the package calls it; ``keep``: the metric indices written (default all)."""
    return run_chunk(params, seeds, run, out=out, keep=keep)


FINAL_COLUMNS: tuple[tuple[str, int], ...] = (("mrr", -1), ("cash", -1))
"""Per-path columns every run without trajectories keeps beside its statistics: the
horizon's MRR and cash, so the result's horizon block is exact (``at_horizon``)."""

Column = tuple[str, int | None]
"""``(metric, month)``: every path's value of a metric in a month (``-1``: the horizon;
``None``: every month, an ``(n_paths, months + 1)`` array); or ``(name, -1)`` with a
name of :data:`simulator.results.value.PATH_VALUES` (the owner's value, cumulative
profit ...), computed from each chunk's trajectories as they come."""


@dataclass(frozen=True)
class Plan:
    """What a run simulates: paths ``first_path .. first_path + n_paths - 1`` of the
    run of ``config`` and ``seed``, in chunks of ``chunk_size``, keeping trajectories,
    statistics or (``statistics`` false) neither, plus every path's value of some
    ``(metric, month)`` ``columns``."""

    config: Config
    seed: int
    n_paths: int
    chunk_size: int = DEFAULT_CHUNK_SIZE
    keep_paths: bool = True
    first_path: int = 0
    columns: tuple[Column, ...] = ()
    statistics: bool = True

    @classmethod
    def of(cls, config: Config | str | Path, n_paths: int | None,
           seed: int | np.random.Generator | None, options: RunOptions | None = None, *,
           first_path: int = 0, columns: Sequence[Column] = ()) -> Plan:
        """The plan of a run, its defaults filled in and checked."""
        options = RunOptions() if options is None else options
        config, n_paths, seed = run_settings(config, n_paths, seed)
        if first_path < 0:
            raise ValueError(f"first_path must be non-negative, got {first_path}")
        chunk_size = (DEFAULT_CHUNK_SIZE if options.chunk_size is None
                      else int(options.chunk_size))
        check_chunk_size(chunk_size)
        keep_paths = (n_paths <= KEEP_PATHS_LIMIT if options.keep_paths is None
                      else bool(options.keep_paths))
        if options.outcomes_only:
            keep_paths = False
        return cls(config, seed, n_paths, chunk_size, keep_paths, int(first_path),
                   tuple((str(m), None if month is None else int(month))
                         for m, month in columns),
                   statistics=not options.outcomes_only)

    @property
    def total(self) -> int:
        """Paths of the whole run (what the parameter draws are relative to)."""
        return self.first_path + self.n_paths

    @functools.cached_property
    def inputs(self) -> RunInputs:
        """The run-level inputs of the engine."""
        return prepare(self.config)

    @property
    def keeps_params(self) -> bool:
        """Whether the run keeps every path's parameters: with its trajectories, or in a
        run of outcomes only of at most :data:`~simulator.results.KEEP_PATHS_LIMIT` paths
        (what per-path values such as the owner's value read; ~1 kB a path)."""
        return self.keep_paths or (not self.statistics and self.n_paths <= KEEP_PATHS_LIMIT)

    @property
    def folds(self) -> bool:
        """Whether the run folds its paths into monthly statistics (no trajectories)."""
        return self.statistics and not self.keep_paths

    @functools.cached_property
    def gathered(self) -> tuple[Column, ...]:
        """The columns the run collects: the asked-for ones, then, when it folds,
        :data:`FINAL_COLUMNS` not asked for."""
        extra = tuple(c for c in FINAL_COLUMNS if c not in self.columns) if self.folds else ()
        return self.columns + extra

    @functools.cached_property
    def values(self) -> bool:
        """Whether a column is a per-path value of :func:`~simulator.results.value.
        path_values_of` (not a metric): the engine then writes what it reads."""
        return any(name not in METRICS for name, _ in self.columns)

    @functools.cached_property
    def recorded(self) -> np.ndarray:
        """Indices (into ``METRICS``) of the metrics the engine writes: all of them,
        or, for a run of outcomes only, those of its columns (and of the values')."""
        if self.statistics:
            return np.arange(len(METRICS), dtype=np.int64)
        names = {name for name, _ in self.columns if name in METRICS}
        if self.values:
            names.update(VALUE_METRICS)
        return np.array(sorted(METRICS.index(name) for name in names), dtype=np.int64)

    @functools.cached_property
    def column_index(self) -> tuple[tuple[int, int | slice] | None, ...]:
        """``(axis in the engine's output, month)`` of each gathered column (a month
        ``None`` as ``slice(None)``; ``None`` for a per-path value)."""
        axis = {int(m): k for k, m in enumerate(self.recorded)}
        index: list[tuple[int, int | slice] | None] = []
        for name, month in self.gathered:
            if name in METRICS:
                index.append((axis[METRICS.index(name)],
                              slice(None) if month is None else month))
            elif name in PATH_VALUES and month == -1:
                index.append(None)
            else:
                raise ValueError(f"column ({name!r}, {month!r}): allowed: a metric "
                                 f"({', '.join(METRICS)}) with a month, or a per-path "
                                 f"value ({', '.join(PATH_VALUES)}) with month -1")
        return tuple(index)

    def take(self, out: np.ndarray, insolvency_month: np.ndarray,
             params: np.ndarray) -> list[np.ndarray]:
        """The gathered columns of a chunk: slices of its output ``out`` (the engine's,
        ``(paths, recorded metrics, months + 1)``) and its paths' values at the horizon
        (:func:`~simulator.results.value.path_values_of`, row by row: the same bits
        whatever the chunks)."""
        values: dict[str, np.ndarray] | None = None
        columns = []
        for (name, _), index in zip(self.gathered, self.column_index, strict=True):
            if index is not None:
                columns.append(out[:, index[0], index[1]])
                continue
            if values is None:
                axis = {METRICS[int(m)]: k for k, m in enumerate(self.recorded)}
                values = path_values_of({m: out[:, axis[m]] for m in VALUE_METRICS}, params,
                                        insolvency_month, self.config)
            columns.append(values[name])
        return columns

    def column_shape(self, n: int, column: Column) -> tuple[int, ...]:
        """Shape of ``n`` paths' values of ``column``."""
        return (n,) if column[1] is not None else (n, self.config.simulation.months + 1)

    def ranges(self, chunk_size: int | None = None) -> list[tuple[int, int]]:
        """Path ranges (of this plan's paths) of its chunks, the pilot first when it
        folds statistics."""
        return list(chunk_ranges(self.n_paths, chunk_size or self.chunk_size,
                                 not self.folds))

    def seeds(self, start: int, stop: int) -> np.ndarray:
        """Month-level seeds of this plan's paths ``start..stop-1``."""
        return path_seeds(self.seed, self.first_path + start, self.first_path + stop)

    def simulate(self, start: int, stop: int, out: np.ndarray | None = None,
                 seeds: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """This plan's paths ``start..stop-1``: trajectories, first passages,
        insolvency months and parameters."""
        params = draw_parameters(self.config, self.seed, self.first_path + start,
                                 self.first_path + stop, n_paths=self.total)
        seeds = self.seeds(start, stop) if seeds is None else seeds
        out, fp, im = run_paths(params, seeds, self.inputs, out=out, keep=self.recorded)
        return out, fp, im, params
