"""Adding paths until the Monte Carlo estimate is precise enough (``--paths auto``).

:func:`simulate_to_precision` runs a config in growing chunks, each chunk
continuing the same run (``simulate(..., first_path=n)``), until the 95%
Wilson interval of P(break by the horizon) has a half-width below the
tolerance, or the path cap is reached. Because path ``i`` of a run does not
depend on how many paths the run has, the result is bit-identical to
``simulate(config, n_paths=N, seed=seed)`` for the ``N`` it stopped at.

The chunk sizes follow the Agresti-Coull sample-size estimate from the paths
so far, ``n = z^2 p~(1 - p~) / tol^2 - z^2`` with
``p~ = (k + z^2/2) / (n + z^2)``, aiming 5% beyond it and growing at most
fourfold per step. Stopping on the half-width (a function of the estimate)
is a mild form of optional stopping; the half-width is a smooth function of
``p(1 - p)`` and so barely depends on the noise, and the re-run tests check
that the estimates of independent runs agree within the promised interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ..config import Config, ConfigError, load_config
from ..results import KEEP_PATHS_LIMIT, SimulationResult, proportion

__all__ = [
    "DEFAULT_INITIAL_PATHS",
    "DEFAULT_MAX_PATHS",
    "DEFAULT_TOLERANCE",
    "AdaptiveResult",
    "check_sampling",
    "check_tolerance",
    "simulate_to_precision",
]

DEFAULT_TOLERANCE = 0.005
"""Target half-width of the 95% CI of P(break by the horizon)."""
DEFAULT_MAX_PATHS = 100_000
"""Cap on the paths of a ``--paths auto`` run (tolerance 0.005 needs at most ~38,400)."""
DEFAULT_INITIAL_PATHS = 1_000
"""Paths of the first chunk."""

_Z = float(stats.norm.ppf(0.975))
_MAX_GROWTH = 4


@dataclass(repr=False)
class AdaptiveResult(SimulationResult):
    """A :class:`~simulator.results.SimulationResult` with its convergence trace.

    Attributes
    ----------
    convergence : list of dict
        One entry per chunk boundary: ``paths`` (paths so far), ``estimate``
        (P(break by the horizon)), ``half_width`` (of its Wilson 95% CI) and
        ``ci95`` (``[low, high]``). The report renders it when present.
    tolerance : float
        The half-width asked for.
    max_paths : int
        The path cap.
    """

    convergence: list[dict[str, Any]] = field(default_factory=list)
    tolerance: float = DEFAULT_TOLERANCE
    max_paths: int = DEFAULT_MAX_PATHS

    @property
    def converged(self) -> bool:
        """Whether the last half-width is below the tolerance (not stopped by the cap)."""
        return bool(self.convergence) and self.convergence[-1]["half_width"] < self.tolerance

    def summary(self, by: Sequence[int] = ()) -> dict[str, Any]:
        """``SimulationResult.summary(by)`` plus a ``convergence`` entry.

        ``convergence`` = ``{"target": "p_break_by_horizon", "tolerance",
        "max_paths", "converged", "trace": [...]}`` with the trace of
        :attr:`convergence`.
        """
        out = super().summary(by)
        out["convergence"] = {
            "target": "p_break_by_horizon",
            "confidence": 0.95,
            "tolerance": float(self.tolerance),
            "max_paths": int(self.max_paths),
            "converged": self.converged,
            "trace": [dict(entry) for entry in self.convergence],
        }
        return out


def check_tolerance(tolerance: float, max_paths: int, source: str = "simulate_to_precision"
                    ) -> None:
    """Raise :class:`ConfigError` unless ``0 < tolerance < 0.5`` and
    ``1 <= max_paths <= KEEP_PATHS_LIMIT`` (an adaptive run keeps every trajectory)."""
    problems = []
    if (isinstance(tolerance, bool) or not isinstance(tolerance, int | float)
            or not (math.isfinite(tolerance) and 0 < tolerance < 0.5)):
        problems.append(("tolerance", tolerance, f"out of range: got {tolerance!r}; allowed: "
                         "a number with 0 < value < 0.5 (half-width of a 95% CI of a "
                         "probability)"))
    if (isinstance(max_paths, bool) or not isinstance(max_paths, int | np.integer)
            or not 1 <= max_paths <= KEEP_PATHS_LIMIT):
        problems.append(("max_paths", max_paths, f"out of range: got {max_paths!r}; allowed: "
                         f"an integer with 1 <= value <= {KEEP_PATHS_LIMIT} (an adaptive run "
                         "keeps every trajectory; tolerance 0.0025 needs at most ~154k)"))
    if problems:
        raise ConfigError(source, problems)


def check_sampling(config: Config, source: str) -> None:
    """Raise :class:`ConfigError` for Latin hypercube sampling: an adaptive run cannot
    add paths to it."""
    if config.simulation.sampling == "lhs":
        raise ConfigError(source, [(
            "simulation.sampling", "lhs",
            "cannot add paths to a Latin hypercube run (it is stratified over the whole "
            'run, so its first paths change with its size); allowed with an adaptive path '
            'count: "random" or "sobol"')])


def _next_total(n: int, k: int, tolerance: float, max_paths: int) -> int:
    z2 = _Z * _Z
    p = (k + z2 / 2) / (n + z2)
    needed = z2 * p * (1 - p) / tolerance**2 - z2
    target = min(_MAX_GROWTH * n, math.ceil(1.05 * needed))
    return int(min(max_paths, max(n + max(100, n // 10), target)))


def simulate_to_precision(
    config: Config | str | Path,
    tolerance: float = DEFAULT_TOLERANCE,
    max_paths: int = DEFAULT_MAX_PATHS,
    seed: int | np.random.Generator | None = None,
    *,
    initial_paths: int = DEFAULT_INITIAL_PATHS,
    chunk_size: int | None = None,
    progress: bool | None = None,
) -> AdaptiveResult:
    """Simulate until the 95% CI half-width of P(break by the horizon) is below ``tolerance``.

    Parameters
    ----------
    config : Config or path
        The config (``simulation.sampling`` must be ``"random"`` or ``"sobol"``).
    tolerance : float
        Target half-width of the Wilson 95% interval, ``0 < tolerance < 0.5``.
    max_paths : int
        Cap on the number of paths; the run stops there unconverged.
    seed : int or numpy.random.Generator, optional
        Run seed; defaults to ``config.simulation.seed``.
    initial_paths : int
        Paths of the first chunk.
    chunk_size, progress
        Passed to :func:`simulator.api.simulate`.

    Returns
    -------
    AdaptiveResult
        The run (identical to a fixed run of as many paths) with its trace in
        ``.convergence``; ``.converged`` is False when the cap stopped it.

    Raises
    ------
    ConfigError
        Bad ``tolerance``/``max_paths``, or Latin hypercube sampling.
    """
    from ..api import as_seed, simulate

    if not isinstance(config, Config):
        config = load_config(config)
    check_tolerance(tolerance, max_paths)
    check_sampling(config, "simulate_to_precision")
    seed = config.simulation.seed if seed is None else as_seed(seed)
    months = config.simulation.months
    n = 0
    k = 0
    target = min(int(max_paths), max(1, int(initial_paths)))
    chunks: list[SimulationResult] = []
    trace: list[dict[str, Any]] = []
    while True:
        part = simulate(config, n_paths=target - n, seed=seed, first_path=n,
                        chunk_size=chunk_size, progress=progress, keep_paths=True)
        fp = part.first_passage
        k += int(np.count_nonzero((fp >= 0) & (fp <= months)))
        n = target
        chunks.append(part)
        est, low, high = proportion(k, n)
        half = (high - low) / 2
        trace.append({"paths": n, "estimate": est, "half_width": half, "ci95": [low, high]})
        if half < tolerance or n >= max_paths:
            break
        target = _next_total(n, k, tolerance, int(max_paths))
    return _merge(chunks, seed, trace, float(tolerance), int(max_paths))


def _merge(chunks: list[SimulationResult], seed: int, trace: list[dict[str, Any]],
           tolerance: float, max_paths: int) -> AdaptiveResult:
    first = chunks[0]
    if len(chunks) == 1:
        metrics, fp, params = first.metrics, first.first_passage, first.params
        insolvent = first.insolvency_month
    else:
        metrics = {name: np.concatenate([c.metrics[name] for c in chunks])
                   for name in first.metrics}
        fp = np.concatenate([c.first_passage for c in chunks])
        insolvent = np.concatenate([c.insolvency_month for c in chunks])
        params = (None if first.params is None
                  else np.concatenate([c.params for c in chunks]))
    chunks.clear()
    return AdaptiveResult(config=first.config, seed=seed, metrics=metrics, first_passage=fp,
                          params=params, insolvency_month=insolvent, convergence=trace,
                          tolerance=tolerance,
                          max_paths=max_paths)
