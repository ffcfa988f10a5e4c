"""The collector of a run: places chunks' trajectories, folds their statistics in path
order and builds the result, whoever ran the chunks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import new_output
from ..model.metrics import METRICS
from ..model.sampling import param_dtype
from ..results import SimulationResult
from ..results.monthly_stats import PILOT_PATHS, MonthlyStats
from ..results.value import path_values
from .plan import FINAL_COLUMNS, Plan

__all__ = ["Collector"]


class Collector:
    """Where a plan's chunks go as they come back.

    With trajectories the engine writes straight into the run's array
    (:meth:`target`); each metric is a ``(paths, months + 1)`` view of it.
    Without, every chunk is folded into :class:`MonthlyStats` in path order
    (the sums are sequential: what keeps the statistics bit-identical whoever
    ran the chunks) and only first passages, insolvency months, the asked-for
    columns and the horizon's MRR and cash (``FINAL_COLUMNS``) are kept, so
    memory stays flat in the number of paths. A run of outcomes only
    (``plan.statistics`` false) folds nothing: the engine writes the metrics of
    its columns alone into a buffer reused by every chunk.
    """

    def __init__(self, plan: Plan, buffer_paths: int = 0):
        self.plan = plan
        n, months = plan.n_paths, plan.config.simulation.months
        self.first_passage = np.empty(n, dtype=np.int64)
        self.insolvency_month = np.empty(n, dtype=np.int64)
        self.values = {c: np.empty(plan.column_shape(n, c)) for c in plan.gathered}
        self.stats: MonthlyStats | None = None
        self._pending: dict[int, Any] = {}
        self._next = 0  # the next range to fold, in path order
        self.buffer: np.ndarray | None = None
        self.params = np.empty(n, dtype=param_dtype()) if plan.keeps_params else None
        if plan.keep_paths:
            self.trajectories = new_output(n, months, touch=False)
        else:
            self.trajectories = None
            if buffer_paths:  # one buffer, reused by every chunk: no fresh memory per chunk
                size = min(max(buffer_paths, PILOT_PATHS if plan.folds else 1), n)
                self.buffer = new_output(size, months, n_metrics=plan.recorded.size)

    def target(self, start: int, stop: int) -> np.ndarray | None:
        """Where the engine writes paths ``start..stop-1`` (``None``: a fresh array)."""
        if self.trajectories is not None:
            return self.trajectories[start:stop]
        return None if self.buffer is None else self.buffer[:stop - start]

    def place(self, start: int, stop: int, out: np.ndarray, fp: np.ndarray, im: np.ndarray,
              params: np.ndarray | None) -> None:
        """Keep paths ``start..stop-1``: their first passages, insolvency months,
        columns and, with trajectories, trajectories and parameters."""
        self.first_passage[start:stop] = fp
        self.insolvency_month[start:stop] = im
        if self.trajectories is not None:
            if not np.may_share_memory(out, self.trajectories):
                self.trajectories[start:stop] = out
            assert self.params is not None
            self.params[start:stop] = params
        else:
            self.place_columns(start, stop, self.plan.take(out, im, params), params)

    def place_columns(self, start: int, stop: int, columns: list[np.ndarray],
                      params: np.ndarray | None = None) -> None:
        """The gathered columns of paths ``start..stop-1`` (a run without trajectories)
        and, where the run keeps them, their parameters."""
        for c, column in zip(self.plan.gathered, columns, strict=True):
            self.values[c][start:stop] = column
        if self.params is not None and params is not None:
            self.params[start:stop] = params

    def fold(self, out: np.ndarray) -> None:
        """Fold the run's next chunk of trajectories into the statistics."""
        if self.stats is None:
            self.stats = MonthlyStats.from_first_chunk(METRICS, out)
        else:
            self.stats.add(out)

    def fold_in_order(self, k: int, part: Any) -> bool:
        """Fold range ``k``'s pilot trajectories (``k == 0``) or partial statistics as
        soon as every range before it is folded; true once the pilot is folded now."""
        self._pending[k] = part
        started = False
        while self._next in self._pending:
            part = self._pending.pop(self._next)
            if self.stats is None:
                self.stats = MonthlyStats.from_first_chunk(METRICS, part)
                started = True
            else:
                self.stats.merge(part)
            self._next += 1
        return started

    @property
    def waiting(self) -> int:
        """Ranges come back but not yet folded."""
        return len(self._pending)

    def result(self) -> tuple[SimulationResult, dict[tuple[str, int], np.ndarray]]:
        """The run's result and its columns."""
        plan = self.plan
        if self.trajectories is not None:
            metrics = {name: self.trajectories[:, k] for k, name in enumerate(METRICS)}
            horizon = None
        else:
            metrics = {}
            horizon = ({name: self.values[(name, month)] for name, month in FINAL_COLUMNS}
                       if plan.folds else None)
        result = SimulationResult(config=plan.config, seed=plan.seed, metrics=metrics,
                                  first_passage=self.first_passage, params=self.params,
                                  stats=self.stats, insolvency_month=self.insolvency_month,
                                  horizon_values=horizon)
        if self.trajectories is None:
            return result, {c: self.values[c] for c in plan.columns}
        values = {}
        for c, index in zip(plan.columns, plan.column_index, strict=True):
            if index is None:  # a per-path value, from the kept trajectories
                kept = path_values(result)
                assert kept is not None  # a run with trajectories keeps its parameters
                values[c] = kept[c[0]]
            else:
                values[c] = np.array(self.trajectories[:, index[0], index[1]])
        return result, values
