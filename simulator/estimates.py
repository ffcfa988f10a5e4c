"""Kaplan-Meier and Wilson estimates of a run, computed as ``scipy.stats`` computes them.

A run's summary needs :func:`scipy.stats.ecdf` on right-censored data (with
its linear Greenwood band) and ``scipy.stats.binomtest(k, n).proportion_ci(
method="wilson")``. Importing ``scipy.stats`` costs ~0.4 s of a warm
``msp-sim run`` on top of ``scipy.special`` (benchmarks/RESULTS.md), so the
functions here are the same arithmetic, operation for operation and in the
same dtypes, on numpy and ``scipy.special.ndtri`` (scipy 1.17's
``stats/_survival.py`` and ``stats/_binomtest.py``). ``tests/test_estimates.py``
checks them equal to ``scipy.stats`` bit for bit.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["KaplanMeier", "kaplan_meier", "wilson_interval"]


def _z(confidence: float) -> float:
    from scipy.special import ndtri

    return ndtri(0.5 + 0.5 * confidence)


class KaplanMeier(NamedTuple):
    """``scipy.stats.ecdf``'s estimate: its distinct times, CDF and SF, at-risk
    counts and events (deaths) at each time."""

    times: np.ndarray
    cdf: np.ndarray
    sf: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray

    def cdf_band(self, confidence: float) -> tuple[np.ndarray, np.ndarray]:
        """The pointwise linear Greenwood band of the CDF, clipped to [0, 1] (NaN where
        the formula is undefined): ``ecdf(...).cdf.confidence_interval(confidence)``."""
        sf = 1 - self.cdf  # (scipy's cdf-kind function recomputes its SF from the CDF)
        n, d = self.at_risk, self.events
        with np.errstate(divide="ignore", invalid="ignore"):
            var = sf ** 2 * np.cumsum(d / (n * (n - d)))
        se = np.sqrt(var)
        z_se = _z(confidence) * se
        low = self.cdf - z_se
        high = self.cdf + z_se
        return np.clip(low, 0, 1), np.clip(high, 0, 1)


def kaplan_meier(uncensored: np.ndarray, right: np.ndarray) -> KaplanMeier:
    """``scipy.stats.ecdf(CensoredData(uncensored=..., right=...))`` (float64 samples)."""
    uncensored = np.asarray(uncensored, dtype=np.float64)
    right = np.asarray(right, dtype=np.float64)
    if right.size == 0:  # no censoring: scipy's plain empirical CDF
        sample = np.sort(uncensored)
        x, counts = np.unique(sample, return_counts=True)
        events = np.cumsum(counts)
        n = sample.size
        cdf = events / n
        sf = 1 - cdf
        at_risk = np.concatenate(([n], n - events[:-1]))
        return KaplanMeier(x, cdf, sf, at_risk, counts)
    times = np.concatenate((uncensored, right))
    died = np.asarray([1] * uncensored.size + [0] * right.size)
    i = np.argsort(times)
    times = times[i]
    died = died[i]
    at_risk = np.arange(times.size, 0, -1)
    j = np.diff(times, prepend=-np.inf, append=np.inf) > 0
    t = times[j[:-1]]  # distinct times
    n = at_risk[j[:-1]]  # at risk at each
    cd = np.cumsum(died)[j[1:]]  # deaths up to and at each
    d = np.diff(cd, prepend=0)
    sf = np.cumprod((n - d) / n)
    return KaplanMeier(t, 1 - sf, sf, n, d)


def wilson_interval(k: int, n: int, confidence: float) -> tuple[float, float]:
    """``scipy.stats.binomtest(k, n).proportion_ci(confidence, method="wilson")``."""
    p = k / n
    z = _z(confidence)
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    q = 1 - p
    delta = z / denom * math.sqrt(4 * n * p * q + z**2)
    lo = 0.0 if k == 0 else center - delta
    hi = 1.0 if k == n else center + delta
    return float(lo), float(hi)
