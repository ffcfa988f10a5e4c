"""The result of a run: trajectories, first-passage times and their summaries.

:class:`SimulationResult` holds what the engine returns (one array per
monthly metric, the first-passage month of every path and the per-path
parameter draws) and turns it into the numbers MODEL.md's "Outputs" promise:
the censoring-aware distribution of the time to the MRR threshold, the
probability of breaking it by a month, per-month quantiles and the
``summary.json`` dictionary.

The censoring-aware time to the threshold and the Wilson intervals of its
probabilities are :mod:`.survival`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config.schema import Config
from ..formatting import finite_or_none as _float
from ..formatting import money as _money
from ..formatting import month_label as _month_label
from ..formatting import pct as _pct
from ..formatting import pct_short, short_money
from ..model.metrics import REVENUE_METRICS
from ..version import package_version
from .survival import Estimate, TimeToThreshold, proportion

if TYPE_CHECKING:  # (numba-backed: not imported at run time by the results layer)
    from .monthly_stats import MonthlyStats

__all__ = [
    "DEFAULT_QUANTILES",
    "KEEP_PATHS_LIMIT",
    "REPORT_MONTHS",
    "Estimate",
    "SimulationResult",
    "TimeToThreshold",
    "config_sha256",
    "package_version",
    "require_pandas",
]

DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
"""Quantiles of :meth:`SimulationResult.quantiles` and ``quantiles.csv``."""
KEEP_PATHS_LIMIT = 200_000
"""Runs up to this many paths keep every trajectory unless told otherwise."""
REPORT_MONTHS: tuple[int, ...] = (12, 36, 60)
"""Months whose MRR quantiles the summary reports (those within the horizon)."""
TIME_QUANTILES: dict[str, float] = {
    "median": 0.5, "p10": 0.1, "p25": 0.25, "p75": 0.75, "p90": 0.9,
}
"""Keys of ``summary["time_to_threshold"]`` and the probability each stands for."""



def _read_only(values: Any) -> np.ndarray:
    view = np.asarray(values).view()
    view.flags.writeable = False
    return view


def _column_quantiles(values: np.ndarray, qs: list[float]) -> np.ndarray:
    """Quantiles ``(len(qs), months + 1)`` of every column of ``(paths, months + 1)``:
    ``np.quantile``'s numbers, by the engine's selection kernel (about a third of
    ``np.quantile``'s time; :mod:`simulator.engine._quantiles`)."""
    from ..engine import column_quantiles

    out = column_quantiles(values, qs)
    if out is None:  # a NaN: numpy's rules
        # along contiguous rows: about 1.5x faster than along axis 0
        return np.quantile(np.ascontiguousarray(values.T), qs, axis=1)
    return out


def config_sha256(config: Config) -> str:
    """SHA-256 of the config's canonical JSON (sorted keys, aliases, no spaces)."""
    data = config.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(repr=False)
class SimulationResult:
    """Trajectories of a run and the summaries MODEL.md promises.

    Parameters
    ----------
    config : Config
        The validated config that was run.
    seed : int
        The run seed (``None``: ``config.simulation.seed``).
    metrics : dict of str to ndarray
        Metric name -> float64 array ``(n_paths, months + 1)``, in METRICS order.
    first_passage : ndarray of int64, shape (n_paths,)
        First month ``t >= 0`` at which MRR has been at or above the threshold
        for ``sustain_months`` consecutive months; -1 if never.
    params : structured ndarray, shape (n_paths,)
        Per-path parameter draws (fields such as ``churn_annual_rate``).
    insolvency_month : ndarray of int64, shape (n_paths,), optional
        Month in which the path ran out of cash and credit (it closes down:
        no MRR or revenue from then on); -1 if never. Default: never.
    stats : MonthlyStats, optional
        For runs that did not keep trajectories (``metrics`` empty): per-month
        moments and histograms accumulated chunk by chunk. Quantiles then come
        from the histograms (to within one bin), means and standard deviations
        are exact, and first-passage times are kept for every path.
    horizon_values : dict of str to ndarray, optional
        For runs without trajectories: every path's ``"mrr"`` and ``"cash"`` at the
        horizon, so :meth:`at_horizon` and :meth:`p_above_at` of the horizon are
        exact (the same numbers as from kept trajectories). A run of outcomes only
        (``RunOptions(outcomes_only=True)``) has neither metrics nor statistics:
        its first passages and insolvency months alone.

    The trajectories are held as read-only views (``result["mrr"]`` cannot
    be written to): quantiles and the time to the threshold are computed
    once and kept.
    """

    config: Config
    seed: int | None
    metrics: dict[str, np.ndarray]
    first_passage: np.ndarray
    params: np.ndarray | None = None
    stats: MonthlyStats | None = None
    insolvency_month: np.ndarray | None = None
    horizon_values: dict[str, np.ndarray] | None = None
    _ttt: TimeToThreshold | None = field(default=None, init=False, repr=False, compare=False)
    _quantile_memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _mean_memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seed is None:
            self.seed = self.config.simulation.seed
        self.first_passage = np.asarray(self.first_passage)
        if self.first_passage.ndim != 1 or self.first_passage.size == 0:
            raise ValueError("first_passage must be a non-empty 1-d array")
        if self.metrics and "mrr" not in self.metrics:
            raise ValueError("metrics must contain 'mrr'")
        shape = (self.first_passage.size, self.config.simulation.months + 1)
        for name, values in self.metrics.items():
            if np.shape(values) != shape:
                raise ValueError(
                    f"metric {name!r} has shape {np.shape(values)}, expected {shape}"
                )
        # Read-only views: the result caches summaries (quantiles, the time to
        # the threshold) of trajectories that must not change under them.
        self.metrics = {name: _read_only(values) for name, values in self.metrics.items()}
        if self.params is not None and len(self.params) != shape[0]:
            raise ValueError(f"params has {len(self.params)} rows, expected {shape[0]}")
        if self.insolvency_month is None:
            self.insolvency_month = np.full(shape[0], -1, dtype=np.int64)
        self.insolvency_month = np.asarray(self.insolvency_month)
        if self.insolvency_month.shape != (shape[0],):
            raise ValueError(f"insolvency_month has shape {self.insolvency_month.shape}, "
                             f"expected ({shape[0]},)")

    def __repr__(self) -> str:
        return (f"SimulationResult(n_paths={self.n_paths}, months={self.months}, "
                f"seed={self.seed}, metrics={len(self.metrics)})")

    # -- basic facts ---------------------------------------------------------

    @property
    def n_paths(self) -> int:
        """Number of simulated paths."""
        return int(self.first_passage.size)

    @property
    def months(self) -> int:
        """Horizon H; trajectories have ``months + 1`` entries (index 0 = start)."""
        return int(self.config.simulation.months)

    @property
    def threshold_mrr(self) -> float:
        """The MRR threshold [$/month]."""
        return float(self.config.simulation.threshold_mrr)

    @property
    def sustain_months(self) -> int:
        """Consecutive months at or above the threshold that count as breaking it."""
        return int(self.config.simulation.sustain_months)

    def _folded(self) -> MonthlyStats:
        """The per-month statistics of a run that kept no trajectories."""
        if self.stats is None:
            raise ValueError("this result holds neither trajectories nor statistics (a run "
                             "of outcomes only: first passages and insolvency months)")
        return self.stats

    @property
    def metric_names(self) -> tuple[str, ...]:
        """Names of the recorded metrics, in engine order."""
        return tuple(self.metrics) if self.metrics else tuple(self._folded().names)

    @property
    def paths_kept(self) -> bool:
        """Whether every path's trajectory is held (else only :attr:`stats`)."""
        return bool(self.metrics)

    def __getitem__(self, name: str) -> np.ndarray:
        """Trajectories of one metric, shape ``(n_paths, months + 1)``."""
        if not self.metrics:
            raise KeyError(
                f"this run of {self.n_paths:,} paths kept no trajectories; use "
                "quantiles(), mean() or std() (or simulate(..., keep_paths=True))"
            )
        try:
            return self.metrics[name]
        except KeyError:
            raise KeyError(
                f"unknown metric {name!r}; available: {', '.join(self.metrics)}"
            ) from None

    def mean(self, name: str) -> np.ndarray:
        """Mean over paths of a metric, every month: shape ``(months + 1,)``.

        Computed once a metric and kept (a copy is returned): a run's checks,
        summary, page and figures ask for the same means ~90 times, and the figures'
        child, forked after the finiteness check, finds them all computed."""
        memo = self._mean_memo
        if name not in memo:
            memo[name] = (self[name].mean(axis=0) if self.metrics
                          else self._folded().mean_of(name))
        return memo[name].copy()

    def std(self, name: str) -> np.ndarray:
        """Standard deviation (ddof=1) over paths of a metric, every month."""
        if self.metrics:
            return self[name].std(axis=0, ddof=1) if self.n_paths > 1 else np.zeros(
                self.months + 1)
        return self._folded().std_of(name)

    # -- time to threshold ---------------------------------------------------

    def time_to_threshold(self) -> TimeToThreshold:
        """Censoring-aware distribution of the first-passage month (cached)."""
        if self._ttt is None:
            self._ttt = TimeToThreshold.from_first_passage(self.first_passage, self.months)
        return self._ttt

    def p_break_by(self, month: int) -> Estimate:
        """Share of paths that broke the threshold by ``month``, with a Wilson 95% CI.

        Exact (no censoring correction needed): censoring happens only at the
        horizon, so ``month`` must lie in ``0..months``.
        """
        if not 0 <= month <= self.months:
            raise ValueError(f"month must be in 0..{self.months}, got {month}")
        fp = self.first_passage
        k = int(np.count_nonzero((fp >= 0) & (fp <= month)))
        return proportion(k, self.n_paths)

    def p_insolvent_by(self, month: int) -> Estimate:
        """Share of paths that ran out of cash and credit by ``month``, with a Wilson 95% CI."""
        if not 0 <= month <= self.months:
            raise ValueError(f"month must be in 0..{self.months}, got {month}")
        im = np.asarray(self.insolvency_month)
        k = int(np.count_nonzero((im >= 0) & (im <= month)))
        return proportion(k, self.n_paths)

    def time_quantile(self, p: float) -> Estimate:
        """Month by which a share ``p`` of paths broke the threshold (None if not reached)."""
        return self.time_to_threshold().quantile(p)

    @property
    def censored_fraction(self) -> float:
        """Share of paths that never break the threshold within the horizon."""
        return float(np.count_nonzero(self.first_passage < 0)) / self.n_paths

    # -- trajectories --------------------------------------------------------

    def quantiles(
        self,
        qs: tuple[float, ...] | list[float] = DEFAULT_QUANTILES,
        metrics: list[str] | tuple[str, ...] | None = None,
    ) -> dict[str, np.ndarray]:
        """Per-month quantiles across paths.

        Returns
        -------
        dict of str to ndarray
            Metric name -> array ``(len(qs), months + 1)``; row ``j`` holds
            quantile ``qs[j]`` of every month.
        """
        names = self.metric_names if metrics is None else tuple(metrics)
        q = np.asarray(qs, dtype=np.float64)
        if not self.metrics:
            return {name: self._folded().quantiles_of(name, q) for name in names}
        for name in names:
            self[name]  # unknown names raise KeyError before any work
        memo = self._quantile_memo
        todo = [(name, missing) for name in names
                if (missing := sorted({float(v) for v in q.ravel()} - memo.get(name, {}).keys()))]
        if todo:
            # np.quantile releases the GIL while it partitions: metrics in parallel
            workers = min(len(todo), os.cpu_count() or 1)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                rows = list(pool.map(lambda job: _column_quantiles(self[job[0]], job[1]), todo))
            for (name, missing), values in zip(todo, rows, strict=True):
                memo.setdefault(name, {}).update(zip(missing, values, strict=True))
        return {name: np.array([memo[name][float(v)] for v in q.ravel()]).reshape(
            (*q.shape, self.months + 1)) for name in names}

    def report_months(self) -> list[int]:
        """The months of :data:`REPORT_MONTHS` within the horizon."""
        return [m for m in REPORT_MONTHS if m <= self.months]

    def month_label(self, t: int) -> str:
        """``month 36``, or ``month 36 (Dec 2029)`` with ``simulation.start_date``."""
        return _month_label(t, self.config.simulation.start_date)

    def _chance_months(self, by: Sequence[int] = ()) -> list[int]:
        """12, 36, the horizon and ``by``: the months whose P(break) a reader sees first."""
        months = {m for m in (12, 36, self.months, *by) if 0 <= m <= self.months}
        return sorted(months)

    def p_above_at(self, month: int) -> float:
        """Share of paths whose MRR is at or above the threshold in ``month`` (not
        only "broke it once": still above it then). From the trajectories when
        kept, else from the per-month histogram (to within a bin)."""
        if self.metrics:
            return float(np.mean(self["mrr"][:, month] >= self.threshold_mrr))
        if month == self.months and self.horizon_values is not None:
            return float(np.mean(self.horizon_values["mrr"] >= self.threshold_mrr))
        qs = np.linspace(0.0, 1.0, 2001)
        values = self._folded().quantiles_of("mrr", qs)[:, month]
        return float(1.0 - np.interp(self.threshold_mrr, values, qs, left=0.0, right=1.0))

    def _endpoints_per_seat(self) -> float:
        value = self.config.customers.endpoints_per_seat
        return float(value) if isinstance(value, int | float) else float(value.frozen().mean())

    def at_horizon(self) -> dict[str, Any]:
        """What the business looks like at the horizon: median MRR, the share of
        paths above the threshold then, the pretax margin of the last 12 months
        (profit over revenue of all paths together, the mean business's margin),
        the gross margins of managed services and projects over the same months,
        endpoints per technician (all technicians, and per full-time technician of
        managed-services work: their hours less projects and onboarding) and cash
        (p10 / p50 / p90); the owner's scoreboard (:func:`~.value.value_at_horizon`:
        adjusted EBITDA, enterprise value and owner value, p10 / p50 / p90, and the
        mean of the worst 10% of cash and of owner value)."""
        from .value import value_at_horizon

        window = slice(max(1, self.months - 11), self.months + 1)

        def total(name: str) -> float:
            return float(self.mean(name)[window].sum())

        revenue = sum(total(m) for m in REVENUE_METRICS)
        profit = total("pretax_profit")
        managed, projects = total("revenue_managed"), total("revenue_projects")
        techs = total("techs")
        endpoints = total("seats") * self._endpoints_per_seat()
        work = total("work_hours")
        service_techs = techs * (1.0 - total("project_hours") / work) if work > 0 else 0.0
        q = self._horizon_quantiles((0.1, 0.5, 0.9), ("mrr", "cash"))
        return {
            "month": self.months,
            "mrr_p50": _float(q["mrr"][1, -1]),
            "p_above_threshold": _float(self.p_above_at(self.months)),
            "pretax_margin_last_12_months": _float(profit / revenue) if revenue > 0 else None,
            "managed_gross_margin_last_12_months": (
                _float(total("gross_profit_managed") / managed) if managed > 0 else None),
            "projects_gross_margin_last_12_months": (
                _float(total("gross_profit_projects") / projects) if projects > 0 else None),
            "endpoints_per_tech": _float(endpoints / techs) if techs > 0 else None,
            "endpoints_per_service_tech": (
                _float(endpoints / service_techs) if service_techs > 0 else None),
            "cash_p10": _float(q["cash"][0, -1]),
            "cash_p50": _float(q["cash"][1, -1]),
            "cash_p90": _float(q["cash"][2, -1]),
            **value_at_horizon(self),
        }

    def _horizon_quantiles(self, qs: tuple[float, ...], names: tuple[str, ...]
                           ) -> dict[str, np.ndarray]:
        """Quantiles ``qs`` of metrics ``names`` across paths, shape ``(len(qs), 1)``:
        exact from the horizon's per-path values when a run kept them instead of
        trajectories (the same selection as for trajectories: the same bits)."""
        if self.metrics or self.horizon_values is None:
            return {name: q[:, -1:] for name, q in self.quantiles(qs, names).items()}
        return {name: _column_quantiles(self.horizon_values[name][:, None], list(qs))
                for name in names}

    # -- summaries -----------------------------------------------------------

    def summary(self, by: Sequence[int] = ()) -> dict[str, Any]:
        """The ``summary.json`` dictionary (plain JSON types only); ``by`` adds months to
        ``p_break_by_month`` (which holds 12, 36 and the horizon)."""
        ttt = self.time_to_threshold()
        horizon = self.p_break_by(self.months)
        insolvent = self.p_insolvent_by(self.months)
        times = {key: ttt.quantile(p) for key, p in TIME_QUANTILES.items()}
        mrr_q = self.quantiles(DEFAULT_QUANTILES, metrics=["mrr"])["mrr"]
        mrr_mean = self.mean("mrr")
        p5, p50, p95 = (mrr_q[DEFAULT_QUANTILES.index(q), -1] for q in (0.05, 0.5, 0.95))
        at_month = {}
        for m in self.report_months():
            entry = {"mean": _float(mrr_mean[m])}
            entry.update({_qname(q): _float(mrr_q[j, m])
                          for j, q in enumerate(DEFAULT_QUANTILES)})
            at_month[str(m)] = entry
        return {
            "n_paths": self.n_paths,
            "months": self.months,
            "seed": None if self.seed is None else int(self.seed),
            "threshold_mrr": self.threshold_mrr,
            "sustain_months": self.sustain_months,
            "sampling": self.config.simulation.sampling,
            "p_break_by_horizon": _float(horizon.value),
            "p_break_by_horizon_ci95": [_float(horizon.low), _float(horizon.high)],
            "p_break_by_month": {
                str(m): _float(self.p_break_by(m).value)
                for m in sorted({*self.report_months(), *self._chance_months(by)})
            },
            "time_to_threshold": {key: est.value for key, est in times.items()},
            "time_to_threshold_ci95": {key: [est.low, est.high] for key, est in times.items()},
            "censored_fraction": _float(self.censored_fraction),
            "p_insolvent_by_horizon": _float(insolvent.value),
            "p_insolvent_by_horizon_ci95": [_float(insolvent.low), _float(insolvent.high)],
            "mrr_start": {"mean": _float(mrr_mean[0]),
                          "p50": _float(mrr_q[DEFAULT_QUANTILES.index(0.5), 0])},
            "mrr_final": {"mean": _float(mrr_mean[-1]), "p5": _float(p5), "p50": _float(p50),
                          "p95": _float(p95)},
            "at_horizon": self.at_horizon(),
            "start_date": (None if self.config.simulation.start_date is None
                           else self.config.simulation.start_date.isoformat()),
            "paths_kept": self.paths_kept,
            "mrr_at_month": at_month,
            "config_sha256": config_sha256(self.config),
            "version": package_version(),
        }

    def headline(self) -> str:
        """The run's headline, every number with its 95% confidence interval: the one
        sentence the report opens with.

        E.g. ``"62% chance to break $100k MRR within 60 months (95% CI 61-63%);
        median 41 months [38-44]. 4% chance of running out of cash and credit by
        month 60 (95% CI 3-5%)"``. The probability is the share of paths that
        break the threshold by the horizon (Wilson interval); the median is the
        censoring-aware median time to the threshold with the interval from the
        pointwise band of its CDF.
        """
        est = self.p_break_by(self.months)
        median = self.time_quantile(0.5)
        out = self.p_insolvent_by(self.months)
        broke = (f". {pct_short(out.value)} chance of running out of cash and credit by month "
                 f"{self.months} (95% CI {pct_short(out.low)}\u2013{pct_short(out.high)})")
        text = (f"{pct_short(est.value)} chance to break {short_money(self.threshold_mrr)} MRR"
                f"{_sustained(self.sustain_months)} within {self.months} months (95% CI "
                f"{pct_short(est.low)}\u2013{pct_short(est.high)})")
        if median.value is None:
            return (text + f"; the median time is beyond month {self.months} (fewer than half "
                    f"of the paths break it){broke}")
        high = f"beyond {self.months}" if median.high is None else str(median.high)
        return text + f"; median {median.value} months [{median.low}\u2013{high}]{broke}"

    def format_summary(self, by: Sequence[int] = ()) -> str:
        """A short human-readable summary of the run: the chance of breaking the threshold
        by months 12, 36, the horizon and ``by``; the median time; the chance of running
        out of cash; MRR, margin and cash at the horizon; MRR quantiles."""
        median = self.time_quantile(0.5)
        thr = _money(self.threshold_mrr)
        lines = [
            f"{self.n_paths:,} paths x {self.months} months, seed {self.seed}, "
            f"threshold {thr} MRR{_sustained(self.sustain_months)}",
        ]
        for m in self._chance_months(by):
            est = self.p_break_by(m)
            lines.append(f"P(MRR >= {thr} by {self.month_label(m)}): {_pct(est.value)} "
                         f"(95% CI {_pct(est.low)}-{_pct(est.high)})")
        if median.value is None:
            lines.append(
                f"Median time to {thr}: not reached "
                f"({_pct(self.censored_fraction)} of paths do not reach it by "
                f"{self.month_label(self.months)})"
            )
        else:
            hi = "beyond horizon" if median.high is None else str(median.high)
            lines.append(
                f"Median time to {thr}: {median.value} months (95% CI {median.low}-{hi}; "
                f"not reached in {_pct(self.censored_fraction)} of paths)"
            )
        out = self.p_insolvent_by(self.months)
        lines.append(f"P(insolvent by {self.month_label(self.months)}): {_pct(out.value)} "
                     f"(95% CI {_pct(out.low)}-{_pct(out.high)})")
        end = self.at_horizon()
        lines.append(f"At {self.month_label(self.months)}: median MRR {_money(end['mrr_p50'])} "
                     f"({_pct(end['p_above_threshold'])} of paths at or above {thr}); "
                     f"pretax margin {_pct(end['pretax_margin_last_12_months'])} (last 12 "
                     f"months); cash p10 / p50 / p90 {_money(end['cash_p10'])} / "
                     f"{_money(end['cash_p50'])} / {_money(end['cash_p90'])}")
        if end["owner_value_p50"] is not None:
            rate = self.config.finance.discount_rate
            lines.append(
                f"Owner's value (pay plus the sale at {self.month_label(self.months)}, "
                f"discounted{'' if hasattr(rate, 'frozen') else f' at {rate:.0%} a year'}) "
                f"p10 / p50 / p90: {_money(end['owner_value_p10'])} / "
                f"{_money(end['owner_value_p50'])} / {_money(end['owner_value_p90'])} "
                f"(worst 10%: {_money(end['owner_value_cvar10'])}); enterprise value p50 "
                f"{_money(end['enterprise_value_p50'])} at {end['exit_multiple_p50']:.1f}x "
                f"adjusted EBITDA (p50 {_money(end['adjusted_ebitda_p50'])}); cash, worst "
                f"10%: {_money(end['cash_cvar10'])}")
        months = self.report_months()
        if self.months not in months:
            months.append(self.months)
        mrr_q = self.quantiles((0.1, 0.5, 0.9), metrics=["mrr"])["mrr"]
        lines.append("MRR p10 / p50 / p90:")
        for m in months:
            p10, p50, p90 = mrr_q[:, m]
            lines.append(f"  month {m:>3}: {_money(p10)} / {_money(p50)} / {_money(p90)}")
        return "\n".join(lines)

    # -- the shape every analysis result has -----------------------------------

    def to_dict(self) -> dict[str, Any]:
        """:meth:`summary` (``summary.json``), as every analysis result's ``to_dict()``."""
        return self.summary()

    def to_frame(self, qs: tuple[float, ...] = DEFAULT_QUANTILES) -> Any:
        """Per-month quantiles of every metric (pandas DataFrame, the rows of
        ``quantiles.csv``): columns ``month``, ``metric``, ``quantile``, ``value``.

        Raises
        ------
        ImportError
            pandas is not installed.
        """
        pd = require_pandas()
        table = self.quantiles(qs)
        names = list(table)
        months = self.months + 1
        values = np.stack([table[name] for name in names])  # (metric, quantile, month)
        return pd.DataFrame({
            "month": np.repeat(np.arange(months), len(names) * len(qs)),
            "metric": np.tile(np.repeat(names, len(qs)), months),
            "quantile": np.tile(np.asarray(qs, dtype=np.float64), months * len(names)),
            "value": values.transpose(2, 0, 1).ravel(),
        })

    def plot(self, kind: str = "mrr", ax: Any = None) -> Any:
        """One of the run report's figures (:func:`simulator.report.run.plot_run`).

        Parameters
        ----------
        kind : str
            ``"mrr"`` (the fan chart, default), ``"chance"``, ``"owner"``, ``"mix"``,
            ``"operations"``, ``"money"`` or ``"convergence"``.
        ax : matplotlib Axes (or a sequence of them for a figure of several panels), optional
            Draw there; default a new figure.

        Returns
        -------
        matplotlib.figure.Figure
            Drawn on an Agg canvas (no window, no pyplot state) unless ``ax`` is given.
        """
        from ..report.run import plot_run

        return plot_run(self, kind, ax)


def require_pandas() -> Any:
    """The pandas module, or an ImportError that says how to get it (every ``to_frame()``)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_frame() needs pandas, an optional dependency of msp-sim: "
                          "pip install pandas") from None
    return pd


def _qname(q: float) -> str:
    return f"p{q * 100:g}"


def _sustained(months: int) -> str:
    return "" if months == 1 else f" (sustained {months} months)"
