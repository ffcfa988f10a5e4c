"""The engine at the points of a Sobol' design, with common random numbers: the model
that :func:`scipy.stats.sobol_indices` evaluates for :func:`~.sensitivity.sensitivity`,
and the bootstrap of its indices.

The model at a point is the engine itself: the point's parameter values are written
into the structured parameter array of :func:`simulator.model.sampling.draw_parameters`
(integer keys rounded), and ``paths_per_point`` paths are run with
:func:`simulator.runner.plan.run_paths`; the point's outcome is the share, median or
mean over those paths (:data:`OUTCOMES`).

**Month-level noise.** A path also has month-level randomness (meetings,
churn, tickets). Its seeds are fixed per row of the design: row ``j`` of A
and row ``j`` of every "A with column i from B" matrix use the same
``paths_per_point`` seeds (:func:`simulator.model.sampling.path_seeds`), row ``j``
of B other ones. The noise is thus one more input that always sits with
"the other inputs": the total index of a parameter includes its
interactions with the noise, the first-order index is that of the
noise-averaged model, and the variance the indices divide is that of the
point outcome, noise included. A parameter without effect gets exactly 0.
``1 - sum(first_order)`` (``unexplained``) is the share of interactions
plus noise; averaging more paths per point shrinks the noise share (as
``1 / paths_per_point`` for the two mean-type outcomes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..config.schema import Config, param_specs
from ..model.metrics import METRICS
from ..model.sampling import draw_parameters, field_name, path_seeds, prepare
from ..results import config_sha256
from ..runner import map_ordered
from ..runner.plan import run_paths
from .common import CONFIDENCE

__all__ = ["OUTCOMES", "DesignModel", "PointModel", "SobolFunc", "bootstrap_indices",
           "point_outcomes", "quantile_of"]

OUTCOMES: dict[str, str] = {
    "p_break_by_horizon": "P(MRR breaks the threshold by the horizon)",
    "mrr_final_median": "median MRR at the horizon [$/month]",
    "time_to_threshold": "mean months to the threshold, censored at the horizon",
    "p_insolvent_by_horizon": "P(out of cash and credit by the horizon)",
    "cash_final_median": "median cash at the horizon [$]",
    "cumulative_profit_mean": "mean pretax profit summed over the horizon [$]",
}
"""The outcomes analysed, name -> meaning."""
_CHUNK_PATHS = 4096  # engine output is ~15 kB per 60-month path
_TASK_PATHS = 65_536  # paths of one task (one checkpoint): about a second of engine


@dataclass(frozen=True)
class PointModel:
    """What a design point's outcomes need (small and picklable: one copy per worker)."""

    run: Any  # simulator.model.inputs.RunInputs
    base: np.ndarray  # one row of the structured parameter array: the fixed values
    keys: tuple[str, ...]
    integer: tuple[bool, ...]


def point_outcomes(model: PointModel, values: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Outcomes ``(len(OUTCOMES), N)`` at points ``values`` ``(d, N)``, seeds ``(N, k)``.

    A point's outcomes depend on its values and its ``k`` seeds only, so any
    grouping of points into calls (tasks) gives the same bits.
    """
    n_points, k = seeds.shape
    per_chunk = max(1, _CHUNK_PATHS // k)
    fp = np.empty((n_points, k), dtype=np.int64)
    insolvent = np.empty((n_points, k), dtype=bool)
    mrr = np.empty((n_points, k))
    cash = np.empty((n_points, k))
    profit = np.empty((n_points, k))
    # outcomes only: the engine writes MRR, cash and profit alone (first passages and
    # insolvency months come anyway)
    keep = np.array([METRICS.index(m) for m in ("mrr", "cash", "pretax_profit")])
    for start in range(0, n_points, per_chunk):
        stop = min(start + per_chunk, n_points)
        params = np.repeat(model.base, (stop - start) * k)
        for row, key in enumerate(model.keys):
            column = values[row, start:stop]
            if model.integer[row]:
                column = np.rint(column)
            params[field_name(key)] = np.repeat(column, k)
        out, first, closed = run_paths(params, seeds[start:stop].reshape(-1), model.run,
                                       keep=keep)
        fp[start:stop] = first.reshape(-1, k)
        insolvent[start:stop] = (np.asarray(closed) >= 0).reshape(-1, k)
        mrr[start:stop] = out[:, 0, -1].reshape(-1, k)
        cash[start:stop] = out[:, 1, -1].reshape(-1, k)
        profit[start:stop] = out[:, 2, 1:].sum(axis=1).reshape(-1, k)
    months = model.run.months
    return np.stack([np.mean(fp >= 0, axis=1), np.median(mrr, axis=1),
                     np.mean(np.where(fp >= 0, fp, months), axis=1),
                     np.mean(insolvent, axis=1), np.median(cash, axis=1),
                     np.mean(profit, axis=1)])


class DesignModel:
    """Outcomes of the engine at parameter points, ``paths`` fixed seeds per point.

    The points of a call are split into tasks of about :data:`_TASK_PATHS`
    paths; each finished task is kept in ``checkpoint`` (if given) under a
    hash of everything it depends on, and run on ``client``'s workers (if
    given) or here. A rerun takes the kept tasks: the same bits.
    """

    def __init__(self, config: Config, seed: int, keys: Sequence[str], *,
                 client: Any = None, checkpoint: Any = None,
                 progress: Callable[[int, int], None] | None = None, total_points: int = 0):
        specs = param_specs()
        base = draw_parameters(config, seed, 0, 1)  # scalar keys as the engine sees them
        for key in param_specs(per_unit=False):
            value = config.get(key)
            if not isinstance(value, int | float):  # uncertain: at its median unless varied
                base[field_name(key)] = quantile_of(value, 0.5, specs[key].integer)
        self.point_model = PointModel(prepare(config), base, tuple(keys),
                                       tuple(specs[k].integer for k in keys))
        self.client, self.checkpoint, self.progress = client, checkpoint, progress
        self.done, self.total_points = 0, total_points
        self.identity = hashlib.sha256(
            f"{config_sha256(config)}|{','.join(keys)}|{','.join(OUTCOMES)}".encode()).digest()

    def _key(self, values: np.ndarray, seeds: np.ndarray) -> str:
        h = hashlib.sha256(self.identity)
        h.update(np.ascontiguousarray(values).tobytes())
        h.update(np.ascontiguousarray(seeds).tobytes())
        return h.hexdigest()[:32]

    def _advance(self, points: int) -> None:
        self.done += points
        if self.progress is not None:
            self.progress(self.done, max(self.total_points, self.done))

    def __call__(self, values: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """Outcomes ``(len(OUTCOMES), N)`` at points ``values`` ``(d, N)``, seeds ``(N, k)``."""
        values = np.asarray(values, dtype=np.float64)
        n_points, k = seeds.shape
        per_task = max(1, _TASK_PATHS // k)
        spans = [(a, min(a + per_task, n_points)) for a in range(0, n_points, per_task)]
        keys = (None if self.checkpoint is None
                else [self._key(values[:, a:b], seeds[a:b]) for a, b in spans])
        y = np.empty((len(OUTCOMES), n_points))

        def done(i: int, block: np.ndarray, _kept: bool) -> None:
            a, b = spans[i]
            y[:, a:b] = block
            self._advance(b - a)

        map_ordered(point_outcomes, [(values[:, a:b], seeds[a:b]) for a, b in spans],
                    client=self.client, checkpoint=self.checkpoint, keys=keys,
                    accept=lambda i, kept: kept.shape == (len(OUTCOMES),
                                                          spans[i][1] - spans[i][0]),
                    done=done, shared=self.point_model)
        return y


class SobolFunc:
    """The ``func`` of :func:`scipy.stats.sobol_indices`, with common random numbers.

    scipy evaluates A, then B, then the ``d`` matrices "A with column i from
    B" in one call (column ``j * d + i``). Row ``j`` of A and of those
    matrices get seed block ``j``, row ``j`` of B block ``n + j``. The
    layout is checked against A and B, so a change in scipy fails loudly.
    """

    def __init__(self, model: DesignModel, seed: int, n: int, paths: int):
        self.model, self.n, self.paths = model, n, paths
        self.seeds = path_seeds(seed, 0, 2 * n * paths).reshape(2 * n, paths)
        self.calls: list[tuple[np.ndarray, np.ndarray]] = []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        d, n = x.shape[0], self.n
        call = len(self.calls)
        if call == 0 and x.shape[1] == n:
            blocks = np.arange(n)
        elif call == 1 and x.shape[1] == n:
            blocks = n + np.arange(n)
        elif call == 2 and x.shape[1] == n * d:
            a, b = self.calls[0][0], self.calls[1][0]
            expected = np.repeat(a, d, axis=1)
            rows = np.arange(d)
            for j in range(n):
                expected[rows, j * d + rows] = b[:, j]
            if not np.array_equal(x, expected):
                raise RuntimeError("scipy.stats.sobol_indices evaluated an unexpected design; "
                                   "the common-random-number layout needs updating")
            blocks = np.repeat(np.arange(n), d)
        else:
            raise RuntimeError("scipy.stats.sobol_indices evaluated an unexpected design "
                               f"(call {call + 1}, shape {x.shape})")
        y = self.model(x, self.seeds[blocks])
        self.calls.append((x.copy(), y.copy()))  # scipy centres its arrays in place
        return y

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``f_A (s, n)``, ``f_B (s, n)``, ``f_AB (d, s, n)`` as scipy forms them."""
        f_a, f_b, f_ab = (c[1] for c in self.calls)
        s, n = f_a.shape
        d = f_ab.shape[1] // n
        return f_a, f_b, np.moveaxis(f_ab.reshape(s, n, d), -1, 0)


def quantile_of(value: Any, q: float, integer: bool) -> float:
    x = float(value.frozen().ppf(q))
    return float(np.rint(x)) if integer else x


def bootstrap_indices(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, rng: np.random.Generator,
               n_resamples: int) -> tuple[np.ndarray, np.ndarray]:
    """Percentile 95% intervals, shape ``(2, s, d)`` each (first order, total)."""
    s, n = f_a.shape
    d = f_ab.shape[0]

    def statistic(idx: np.ndarray) -> np.ndarray:
        res = stats.sobol_indices(func={"f_A": f_a[:, idx], "f_B": f_b[:, idx],
                                        "f_AB": f_ab[..., idx]}, n=n)
        return np.stack([np.reshape(res.first_order, (s, d)),
                         np.reshape(res.total_order, (s, d))])

    boot = stats.bootstrap((np.arange(n),), statistic, vectorized=False, method="percentile",
                           n_resamples=n_resamples, confidence_level=CONFIDENCE, rng=rng)
    return np.asarray(boot.confidence_interval.low), np.asarray(boot.confidence_interval.high)
