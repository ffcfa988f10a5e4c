"""Which uncertain input drives the outcome: Sobol' indices and a tornado chart.

:func:`sensitivity` computes variance-based (Sobol') first-order and total
indices of three outcomes with respect to the config's uncertain per-path
parameters (the keys given as distribution tables):

- ``p_break_by_horizon``: P(MRR breaks the threshold by the horizon);
- ``mrr_final_median``: median MRR at the horizon [$/month];
- ``time_to_threshold``: mean of ``min(first passage, H)`` [months], the
  restricted mean time to the threshold (paths that never break it count
  as ``H``, the censoring time);
- ``p_insolvent_by_horizon``: P(the business runs out of cash and credit by
  the horizon);
- ``cash_final_median``: median cash at the horizon [$];
- ``cumulative_profit_mean``: mean pretax profit summed over the horizon [$].

The last three rank what decides a cash question (issue 24), which can differ
from what decides growth.

The design and the estimators are :func:`scipy.stats.sobol_indices`
(Saltelli 2010, scrambled Sobol' matrices A and B, ``n_base * (d + 2)``
points). The model at a point is the engine itself, ``paths_per_point`` paths
averaged, their month-level noise held by common random numbers
(:mod:`.sobol`).

Confidence intervals (:func:`~.sobol.bootstrap_indices`): percentile bootstrap
over the ``n_base`` rows with
:func:`scipy.stats.bootstrap` (seeded; ``SobolResult.bootstrap`` has no
``rng`` argument and would draw from NumPy's global generator), each
resample's indices computed by ``scipy.stats.sobol_indices`` itself.

The tornado chart moves one parameter at a time to its 5th and 95th
percentiles, the others at their medians, each point run with the same
``tornado_paths`` month-level seeds (common random numbers), so the bars
differ by the parameter's effect, not by sampling noise between runs.

Sobol' indices assume independent inputs: the ``[correlations]`` section is
not applied here (the result says so).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ..config.loader import ConfigError
from ..config.schema import Config, param_specs
from ..formatting import finite_or_none as _f
from ..formatting import money, pct
from ..model.sampling import path_seeds
from ..results import config_sha256, package_version
from ..runner import using
from .common import JsonResult, require_pandas
from .sobol import OUTCOMES, DesignModel, SobolFunc, bootstrap_indices, quantile_of

__all__ = [
    "OUTCOMES",
    "SensitivityResult",
    "sensitivity",
]

DEFAULT_PATHS_PER_POINT = 16
DEFAULT_TORNADO_PATHS = 2000
TORNADO_QUANTILES = (0.05, 0.5, 0.95)
"""Low, base and high value of a parameter in the tornado chart (its distribution's quantiles)."""
N_RESAMPLES = 999
_DESIGN_KEY = 2  # SeedSequence spawn keys 0 and 1 belong to simulator.model.sampling


# -- result -------------------------------------------------------------------


@dataclass(repr=False)
class SensitivityResult(JsonResult):
    """Sobol' indices and tornado values of each outcome.

    Attributes
    ----------
    config : Config
        The config analysed.
    seed : int
        Seed of the design and of the month-level streams.
    outcomes : tuple of str
        Outcome names (keys of :data:`OUTCOMES`), the rows of the arrays.
    parameters : tuple of str
        The uncertain keys analysed, the columns of the arrays.
    first_order, total : ndarray, shape (outcomes, parameters)
        Sobol' indices.
    first_order_ci, total_ci : ndarray, shape (outcomes, parameters, 2)
        Bootstrap 95% intervals ``[low, high]``.
    mean, variance : ndarray, shape (outcomes,)
        Mean and variance of the point outcome over the A and B designs.
    tornado_values : ndarray, shape (parameters, 3)
        Each parameter's low, base and high value (:data:`TORNADO_QUANTILES`).
    tornado_base : ndarray, shape (outcomes,)
        Outcomes with every parameter at its base value.
    tornado_low, tornado_high : ndarray, shape (outcomes, parameters)
        Outcomes with one parameter at its low / high value.
    n_base, paths_per_point, tornado_paths : int
        Design size: ``n_base * (len(parameters) + 2)`` points of
        ``paths_per_point`` paths, plus ``2 * len(parameters) + 1`` tornado
        points of ``tornado_paths`` paths.
    """

    config: Config
    seed: int
    outcomes: tuple[str, ...]
    parameters: tuple[str, ...]
    first_order: np.ndarray
    total: np.ndarray
    first_order_ci: np.ndarray
    total_ci: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    tornado_values: np.ndarray
    tornado_base: np.ndarray
    tornado_low: np.ndarray
    tornado_high: np.ndarray
    n_base: int
    paths_per_point: int
    tornado_paths: int
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"SensitivityResult(outcomes={list(self.outcomes)}, "
                f"parameters={len(self.parameters)}, n_base={self.n_base}, "
                f"paths_per_point={self.paths_per_point})")

    @property
    def evaluations(self) -> int:
        """Points of the Sobol' design, ``n_base * (d + 2)``."""
        return self.n_base * (len(self.parameters) + 2)

    @property
    def correlations_ignored(self) -> bool:
        """Whether the config has ``[correlations]`` (not applied: indices assume independence)."""
        return bool(self.config.correlations.pairs)

    def ranking(self, outcome: str) -> list[int]:
        """Parameter columns of ``outcome`` by decreasing total effect (then first order, name)."""
        i = self._row(outcome)
        return sorted(range(len(self.parameters)),
                      key=lambda j: (-self.total[i, j], -self.first_order[i, j],
                                     self.parameters[j]))

    def _row(self, outcome: str) -> int:
        try:
            return self.outcomes.index(outcome)
        except ValueError:
            raise KeyError(f"unknown outcome {outcome!r}; available: "
                           f"{', '.join(self.outcomes)}") from None

    def to_dict(self) -> dict[str, Any]:
        """The ``sensitivity.json`` dictionary (plain JSON types).

        ``{"outcomes": [{"outcome", "indices": [{"parameter", "first_order",
        "total", "ci95": {"first_order": [lo, hi], "total": [lo, hi]}}, ...],
        ...}, ...], ...}``: one block per outcome, indices sorted by total
        effect, plus the design, the tornado values and the inputs.
        """
        specs = param_specs()
        blocks = []
        for i, name in enumerate(self.outcomes):
            order = self.ranking(name)
            blocks.append({
                "outcome": name,
                "description": OUTCOMES[name],
                "mean": _f(self.mean[i]),
                "variance": _f(self.variance[i]),
                "unexplained": _f(1.0 - float(np.sum(self.first_order[i]))),
                "indices": [{
                    "parameter": self.parameters[j],
                    "first_order": _f(self.first_order[i, j]),
                    "total": _f(self.total[i, j]),
                    "ci95": {"first_order": [_f(v) for v in self.first_order_ci[i, j]],
                             "total": [_f(v) for v in self.total_ci[i, j]]},
                } for j in order],
                "tornado": {
                    "base": _f(self.tornado_base[i]),
                    "bars": [{
                        "parameter": self.parameters[j],
                        "low_value": _f(self.tornado_values[j, 0]),
                        "high_value": _f(self.tornado_values[j, 2]),
                        "at_low": _f(self.tornado_low[i, j]),
                        "at_high": _f(self.tornado_high[i, j]),
                    } for j in self.swing_order(name)],
                },
            })
        return {
            "method": "Sobol' indices (scipy.stats.sobol_indices, Saltelli 2010), percentile "
                      "bootstrap 95% intervals over the base rows",
            "seed": int(self.seed),
            "months": int(self.config.simulation.months),
            "threshold_mrr": float(self.config.simulation.threshold_mrr),
            "n_base": self.n_base,
            "paths_per_point": self.paths_per_point,
            "evaluations": self.evaluations,
            "tornado_paths": self.tornado_paths,
            "tornado_quantiles": list(TORNADO_QUANTILES),
            "correlations_ignored": self.correlations_ignored,
            "parameters": [{
                "parameter": key,
                "distribution": self.config.get(key).describe(),
                "unit": specs[key].unit,
                "low": _f(self.tornado_values[j, 0]),
                "base": _f(self.tornado_values[j, 1]),
                "high": _f(self.tornado_values[j, 2]),
            } for j, key in enumerate(self.parameters)],
            "outcomes": blocks,
            "config_sha256": config_sha256(self.config),
            "version": package_version(),
        }

    def to_frame(self):
        """One row per outcome and parameter (pandas, an optional dependency).

        Columns: ``outcome``, ``parameter``, ``first_order``,
        ``first_order_low``, ``first_order_high``, ``total``, ``total_low``,
        ``total_high``, ``low_value``, ``high_value``, ``at_low``,
        ``at_high``; rows of each outcome by decreasing total effect.
        """
        pd = require_pandas()
        rows = []
        for i, name in enumerate(self.outcomes):
            for j in self.ranking(name):
                rows.append({
                    "outcome": name, "parameter": self.parameters[j],
                    "first_order": self.first_order[i, j],
                    "first_order_low": self.first_order_ci[i, j, 0],
                    "first_order_high": self.first_order_ci[i, j, 1],
                    "total": self.total[i, j],
                    "total_low": self.total_ci[i, j, 0], "total_high": self.total_ci[i, j, 1],
                    "low_value": self.tornado_values[j, 0],
                    "high_value": self.tornado_values[j, 2],
                    "at_low": self.tornado_low[i, j], "at_high": self.tornado_high[i, j],
                })
        return pd.DataFrame(rows)

    def swing_order(self, outcome: str) -> list[int]:
        """Parameter columns of ``outcome`` by decreasing tornado swing (then name)."""
        i = self._row(outcome)
        swing = np.abs(self.tornado_high[i] - self.tornado_low[i])
        return sorted(range(len(self.parameters)), key=lambda j: (-swing[j], self.parameters[j]))

    def outcome_label(self, outcome: str) -> str:
        """``outcome`` in words, with this config's threshold and horizon."""
        self._row(outcome)
        thr = f"${self.config.simulation.threshold_mrr:,.0f}"
        months = self.config.simulation.months
        return {
            "p_break_by_horizon": f"P(break {thr} MRR by month {months})",
            "mrr_final_median": f"Median MRR at month {months}",
            "time_to_threshold": f"Mean months to {thr} MRR (censored at {months})",
            "p_insolvent_by_horizon": f"P(out of cash and credit by month {months})",
            "cash_final_median": f"Median cash at month {months}",
            "cumulative_profit_mean": f"Mean pretax profit over months 1-{months}",
        }[outcome]

    @staticmethod
    def format_outcome(outcome: str, value: float | None) -> str:
        """A value of ``outcome`` in words: ``43.1%``, ``$89,700`` or ``41.2`` (months)."""
        if value is None:
            return "n/a"
        if outcome in ("p_break_by_horizon", "p_insolvent_by_horizon"):
            return pct(value)
        if outcome in ("mrr_final_median", "cash_final_median", "cumulative_profit_mean"):
            return money(value)
        return f"{value:.1f}"

    def plot(self, kind: str = "tornado", outcomes: Iterable[str] | None = None,
             ax: Any = None) -> Any:
        """A :class:`matplotlib.figure.Figure`: one panel per outcome.

        Parameters
        ----------
        kind : {"tornado", "indices"}
            ``"tornado"``: each parameter at its 5th and 95th percentile, the
            others at their medians, against the all-median base.
            ``"indices"``: first-order and total indices with 95% intervals.
        outcomes : iterable of str, optional
            Outcomes to draw; default all.
        ax : sequence of matplotlib Axes, optional
            One per outcome; default a new figure.
        """
        names = self._chart_outcomes(kind, outcomes)
        from ..report.sensitivity import sensitivity_chart

        return sensitivity_chart(self, kind, names, ax)

    def _chart_outcomes(self, kind: str, outcomes: Iterable[str] | None) -> list[str]:
        """The outcomes of a :meth:`plot` of ``kind``, checked."""
        if kind not in ("tornado", "indices"):
            raise ValueError(f"kind must be 'tornado' or 'indices', got {kind!r}")
        names = list(self.outcomes if outcomes is None else outcomes)
        for name in names:
            self._row(name)
        return names

    def write(self, out_dir: str | Path, title: str | None = None) -> Path:
        """Write ``sensitivity.json``, ``sensitivity.html`` and the figures, atomically
        (:func:`simulator.report.write_sensitivity`)."""
        from ..report.sensitivity import write_sensitivity

        return write_sensitivity(self, out_dir, title)

    def headlines(self) -> list[str]:
        """One sentence per outcome in plain words: its strongest driver, or that it hardly
        varies or that no input stands out from chance (then nothing is called a driver).

        An outcome *hardly varies* when its standard deviation across the design is
        below 1% of its mean; no input *stands out* when the strongest total
        effect's 95% interval reaches below 0.05.
        """
        lines = []
        for i, name in enumerate(self.outcomes):
            label = self.outcome_label(name)
            if not self.variance[i] > 0:
                lines.append(f"{label}: does not vary with the uncertain inputs.")
                continue
            sd, mean = math.sqrt(float(self.variance[i])), float(self.mean[i])
            if mean != 0 and sd < 0.01 * abs(mean):
                lines.append(f"{label}: hardly varies with the uncertain inputs (its spread "
                             f"is {100 * sd / abs(mean):.2g}% of its value), so no input "
                             "drives it.")
                continue
            j = self.ranking(name)[0]
            lo, hi = self.total_ci[i, j]
            if lo < 0.05:
                lines.append(f"{label}: no input stands out from the futures' own chance "
                             f"(the strongest, {self.parameters[j]}, explains "
                             f"{_share(self.total[i, j])} of its ups and downs, 95% interval "
                             f"{_share(lo)} to {_share(hi)}).")
                continue
            lines.append(f"{label}: driven most by {self.parameters[j]}, which explains "
                         f"{_share(self.total[i, j])} of its ups and downs across the "
                         f"simulated futures (total effect, 95% interval {_share(lo)} to "
                         f"{_share(hi)}), {_share(self.first_order[i, j])} on its own "
                         "(first order).")
        return lines



def _share(x: float) -> str:
    """An index as a whole percent, ``62%`` (``0%`` below half a percent)."""
    return f"{max(0.0, 100 * float(x)):.0f}%"


# -- the analysis -------------------------------------------------------------


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def sensitivity(
    config: Config,
    *,
    n_base: int = 256,
    seed: int | None = None,
    paths_per_point: int = DEFAULT_PATHS_PER_POINT,
    outcomes: Sequence[str] | None = None,
    parameters: Sequence[str] | None = None,
    tornado_paths: int = DEFAULT_TORNADO_PATHS,
    n_resamples: int = N_RESAMPLES,
    client: Any = None,
    checkpoint: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Sobol' indices and tornado values of the outcomes with respect to the uncertain inputs.

    Parameters
    ----------
    config : Config
        Validated config; its distribution tables (per-path keys) are the inputs.
    n_base : int
        Rows of each Sobol' matrix, a power of 2; the engine runs
        ``n_base * (d + 2) * paths_per_point`` paths for ``d`` parameters.
    seed : int, optional
        Seed of the design, the bootstrap and the month-level streams;
        default ``config.simulation.seed``.
    paths_per_point : int
        Paths averaged at each design point (reduces month-level noise).
    outcomes : sequence of str, optional
        Subset of :data:`OUTCOMES`; default all.
    parameters : sequence of str, optional
        Subset of the uncertain per-path keys; the others stay at their
        medians. Default: every uncertain per-path key.
    tornado_paths : int
        Paths at each tornado point (same seeds at every point).
    n_resamples : int
        Bootstrap resamples for the 95% intervals.
    client : distributed.Client or str, optional
        Run the design's points as Dask tasks of about 65,536 paths each (a
        client, or ``"local:N"`` / ``"tcp://HOST:PORT"``); the same bits.
    checkpoint : simulator.output.Checkpoint, optional
        Where each finished task is kept (``load_array`` / ``save_array``,
        keyed by a hash of its inputs); a rerun after Ctrl-C or a crash takes
        them from there and gives exactly the uninterrupted result.
    progress : callable, optional
        ``progress(points_done, points_total)`` after each task.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    ConfigError
        The config has no uncertain per-path parameter.
    ValueError
        A bad argument (``n_base`` not a power of 2, an unknown outcome or
        a parameter that is not uncertain), with the allowed values.
    """
    seed = config.simulation.seed if seed is None else int(seed)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    n_base = int(n_base)
    if not _is_power_of_two(n_base) or n_base < 8:
        raise ValueError(f"n_base must be a power of 2 of at least 8 (scipy's Sobol' design), "
                         f"got {n_base}; e.g. 64, 256, 1024")
    for name, value in (("paths_per_point", paths_per_point), ("tornado_paths", tornado_paths),
                        ("n_resamples", n_resamples)):
        if int(value) < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    names = list(OUTCOMES) if outcomes is None else list(outcomes)
    unknown = [o for o in names if o not in OUTCOMES]
    if unknown or not names:
        raise ValueError(f"unknown outcome {unknown[0] if unknown else '(none given)'!r}; "
                         f"allowed: {', '.join(OUTCOMES)}")
    uncertain = [k for k in param_specs(per_unit=False)
                 if not isinstance(config.get(k), int | float)]
    if not uncertain:
        raise ConfigError("config", [("", None, "no uncertain input to analyse: every "
                                      "per-path key is a fixed number; allowed: at least one "
                                      'key given as a distribution table, e.g. churn.annual_rate '
                                      '= {dist = "uniform", low = 0.08, high = 0.15}')])
    if parameters is None:
        keys = uncertain
    else:
        keys = list(dict.fromkeys(parameters))
        bad = [k for k in keys if k not in uncertain]
        if bad or not keys:
            raise ValueError(f"parameter {bad[0] if bad else '(none given)'!r} is not an "
                             f"uncertain per-path key of this config; allowed: "
                             f"{', '.join(uncertain)}")
    with using(client) as dask_client:
        total_points = n_base * (len(keys) + 2) + 2 * len(keys) + 1
        model = DesignModel(config, seed, keys, client=dask_client, checkpoint=checkpoint,
                       progress=progress, total_points=total_points)
        return _indices(config, seed, keys, names, model, n_base, int(paths_per_point),
                        int(tornado_paths), int(n_resamples))


def _indices(config: Config, seed: int, keys: list[str], names: list[str], model: DesignModel,
             n_base: int, paths_per_point: int, tornado_paths: int,
             n_resamples: int) -> SensitivityResult:
    """:func:`sensitivity` once its arguments are checked: the design, the bootstrap and
    the tornado."""
    specs = param_specs()
    # Every outcome comes from the same engine runs, so all are computed (scipy also
    # fails on a single output of a single input) and the requested rows kept.
    rows = [list(OUTCOMES).index(name) for name in names]
    func = SobolFunc(model, seed, n_base, int(paths_per_point))
    dists = [config.get(k).frozen() for k in keys]
    design_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_DESIGN_KEY,)))
    res = stats.sobol_indices(func=func, n=n_base, dists=dists, rng=design_rng)
    d = len(keys)
    first = np.reshape(res.first_order, (len(OUTCOMES), d))[rows]
    total = np.reshape(res.total_order, (len(OUTCOMES), d))[rows]
    f_a, f_b, f_ab = func.arrays()
    boot_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_DESIGN_KEY, 1)))
    low, high = bootstrap_indices(f_a, f_b, f_ab, boot_rng, int(n_resamples))
    low, high = low[:, rows], high[:, rows]
    both = np.concatenate([f_a, f_b], axis=1)[rows]

    values = np.array([[quantile_of(config.get(k), q, specs[k].integer)
                        for q in TORNADO_QUANTILES] for k in keys])
    points = np.repeat(values[:, 1:2], 2 * d + 1, axis=1)  # column 0: every key at base
    for j in range(d):
        points[j, 1 + 2 * j] = values[j, 0]
        points[j, 2 + 2 * j] = values[j, 2]
    tseeds = path_seeds(seed, 2 * n_base * int(paths_per_point),
                        2 * n_base * int(paths_per_point) + int(tornado_paths))
    y = model(points, np.tile(tseeds, (2 * d + 1, 1)))[rows]
    return SensitivityResult(
        config=config, seed=seed, outcomes=tuple(names), parameters=tuple(keys),
        first_order=first, total=total,
        first_order_ci=np.stack([low[0], high[0]], axis=-1),
        total_ci=np.stack([low[1], high[1]], axis=-1),
        mean=both.mean(axis=1), variance=both.var(axis=1),
        tornado_values=values, tornado_base=y[:, 0],
        tornado_low=y[:, 1::2], tornado_high=y[:, 2::2],
        n_base=n_base, paths_per_point=int(paths_per_point), tornado_paths=int(tornado_paths),
    )
