"""The time to the MRR threshold and the chances read off a run, with their 95% intervals.

Times to the threshold are right-censored at the horizon ``H``: a path that
never breaks it (``first_passage == -1``) is censored at ``H``. The
distribution is estimated with :func:`scipy.stats.ecdf` on
:class:`scipy.stats.CensoredData` (Kaplan-Meier). Because censoring happens
only at the horizon, the estimate at any month ``t <= H`` equals the plain
fraction of paths broken by ``t``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = ["CONFIDENCE", "Estimate", "TimeToThreshold", "proportion"]

CONFIDENCE = 0.95
"""Level of the run's intervals."""
_TOL = 1e-9  # Kaplan-Meier products are not exact fractions


class Estimate(NamedTuple):
    """A point estimate with its 95% confidence interval.

    ``None`` stands for "not reached within the horizon" (time quantiles).
    """

    value: float | int | None
    low: float | int | None
    high: float | int | None


@dataclass(frozen=True)
class TimeToThreshold:
    """Censoring-aware distribution of the month at which MRR breaks the threshold.

    Attributes
    ----------
    ecdf : scipy.stats._survival.ECDFResult
        :func:`scipy.stats.ecdf` of the first-passage months, paths that never
        break censored at ``months``.
    months : int
        The horizon H (censoring time).
    n_paths, n_events : int
        Paths in the run and paths that broke the threshold.
    """

    ecdf: Any
    months: int
    n_paths: int
    n_events: int

    @classmethod
    def from_first_passage(cls, first_passage: np.ndarray, months: int) -> TimeToThreshold:
        """Estimate from first-passage months (-1 = never), censored at ``months``."""
        fp = np.asarray(first_passage)
        hit = fp >= 0
        from scipy import stats  # (on first use: commands that never need it skip ~0.5 s)

        data = stats.CensoredData(
            uncensored=fp[hit].astype(np.float64),
            right=np.full(int(np.count_nonzero(~hit)), float(months)),
        )
        return cls(ecdf=stats.ecdf(data), months=int(months), n_paths=int(fp.size),
                   n_events=int(np.count_nonzero(hit)))

    @property
    def censored_fraction(self) -> float:
        """Share of paths that never break the threshold within the horizon."""
        return (self.n_paths - self.n_events) / self.n_paths

    @property
    def times(self) -> np.ndarray:
        """The distinct months at which the estimate steps."""
        return np.asarray(self.ecdf.cdf.quantiles, dtype=np.float64)

    @property
    def cdf_values(self) -> np.ndarray:
        """Estimated P(broken by t) at :attr:`times`."""
        return np.asarray(self.ecdf.cdf.probabilities, dtype=np.float64)

    def confidence_band(self) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise 95% band (Greenwood, linear) of the CDF at :attr:`times`.

        Where the formula is undefined (the estimate reaches 1) the band is
        closed: the low side carries its last value forward, the high side is 1.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="The confidence interval is undefined", category=RuntimeWarning
            )
            ci = self.ecdf.cdf.confidence_interval(CONFIDENCE)
        low = np.asarray(ci.low.probabilities, dtype=np.float64)
        high = np.asarray(ci.high.probabilities, dtype=np.float64)
        high = np.where(np.isnan(high), 1.0, high)
        low = np.fmax.accumulate(np.where(np.isnan(low), -np.inf, low))
        low = np.where(np.isfinite(low), low, 0.0)
        return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)

    def cdf(self, t: Any) -> np.ndarray:
        """Estimated P(broken by month t) for months ``t <= months``."""
        return _step(self.times, self.cdf_values, t)

    def cdf_band(self, t: Any) -> tuple[np.ndarray, np.ndarray]:
        """The 95% band of :meth:`cdf` at months ``t``."""
        low, high = self.confidence_band()
        return _step(self.times, low, t), _step(self.times, high, t)

    def quantile(self, p: float) -> Estimate:
        """Month by which a share ``p`` of paths has broken the threshold, with 95% CI.

        The estimate is the first month at which the estimated CDF reaches
        ``p``; the interval inverts the pointwise band (first months at which
        its high and its low side reach ``p``). ``None`` where the curve does
        not reach ``p`` within the horizon.
        """
        if not 0.0 < p < 1.0:
            raise ValueError(f"p must be in (0, 1), got {p}")
        low, high = self.confidence_band()
        return Estimate(
            value=_first_reaching(self.times, self.cdf_values, p),
            low=_first_reaching(self.times, high, p),
            high=_first_reaching(self.times, low, p),
        )


def _step(times: np.ndarray, values: np.ndarray, t: Any) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)
    idx = np.searchsorted(times, t, side="right") - 1
    return np.where(idx >= 0, values[np.maximum(idx, 0)], 0.0)


def _first_reaching(times: np.ndarray, values: np.ndarray, p: float) -> int | None:
    reached = np.flatnonzero(values >= p - _TOL)
    return int(times[reached[0]]) if reached.size else None


def proportion(k: int, n: int) -> Estimate:
    """``k / n`` with its Wilson 95% interval."""
    from scipy import stats

    ci = stats.binomtest(k, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return Estimate(value=k / n, low=float(ci.low), high=float(ci.high))
