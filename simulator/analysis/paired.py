"""The statistics of a comparison with common random numbers: paired differences
with their intervals, the log-rank test, a scenario's summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from ..formatting import finite_or_none as _f
from ..results import SimulationResult, config_sha256
from .common import CONFIDENCE, mean_ci

__all__ = ["COMPARE_MONTHS", "logrank_p", "paired_difference", "report_months", "scenario_summary"]

COMPARE_MONTHS: tuple[int, ...] = (12, 24, 36, 60)
"""Months of ``p_break_by`` (those within the horizon, plus the horizon)."""


def _quantile_ci(x: np.ndarray, p: float) -> list[float | None]:
    """Distribution-free 95% CI of the ``p`` quantile (scipy.stats.quantile_test)."""
    ci = stats.quantile_test(x, p=p).confidence_interval(CONFIDENCE)
    return [_f(ci.low), _f(ci.high)]


def paired_difference(a: np.ndarray, b: np.ndarray, binary: bool) -> dict[str, Any]:
    """Mean of ``b - a`` over paired paths with its 95% CI and a p-value."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = b - a
    value = float(d.mean())
    if np.all(d == d[0]):
        ci = [value, value]
        pvalue = 1.0 if value == 0 else 0.0
    else:
        res = stats.ttest_rel(b, a)
        c = res.confidence_interval(CONFIDENCE)
        ci = [_f(c.low), _f(c.high)]
        pvalue = _f(res.pvalue)
    if binary:  # exact McNemar test on the discordant paths
        gain = int(np.count_nonzero(d > 0))
        loss = int(np.count_nonzero(d < 0))
        pvalue = 1.0 if gain + loss == 0 else float(stats.binomtest(gain, gain + loss).pvalue)
    return {"value": value, "ci95": ci, "p_value": pvalue}


def _censored(result: SimulationResult) -> Any:
    fp = result.first_passage
    hit = fp >= 0
    return stats.CensoredData(uncensored=fp[hit].astype(np.float64),
                              right=np.full(int(np.count_nonzero(~hit)), float(result.months)))


def logrank_p(a: SimulationResult, b: SimulationResult) -> float | None:
    """Two-sided log-rank p-value of two runs' censored first-passage times.

    ``None`` when neither run breaks the threshold (no event: nothing to test).
    """
    if not (np.any(a.first_passage >= 0) or np.any(b.first_passage >= 0)):
        return None
    return _f(stats.logrank(_censored(a), _censored(b)).pvalue)


def report_months(months: int) -> list[int]:
    """:data:`COMPARE_MONTHS` within the horizon, plus the horizon itself."""
    out = [m for m in COMPARE_MONTHS if m <= months]
    if months not in out:
        out.append(months)
    return out


def scenario_summary(result: SimulationResult, months: Sequence[int] | None = None,
                     final: np.ndarray | None = None) -> dict[str, Any]:
    """The per-scenario entry of ``comparison.json`` (without name and differences).

    ``final``: every path's MRR at the horizon (default: from the kept trajectories).
    """
    months = report_months(result.months) if months is None else list(months)
    p_break, p_ci = {}, {}
    for m in months:
        est = result.p_break_by(m)
        p_break[str(m)] = _f(est.value)
        p_ci[str(m)] = [_f(est.low), _f(est.high)]
    median = result.time_quantile(0.5)
    final = result["mrr"][:, -1] if final is None else final
    qs = {"p5": 0.05, "p50": 0.5, "p95": 0.95}
    values = np.quantile(final, list(qs.values()))
    mrr = {"mean": _f(final.mean())}
    mrr.update({k: _f(v) for k, v in zip(qs, values, strict=True)})
    mrr["ci95"] = {"mean": mean_ci(final), **{k: _quantile_ci(final, p) for k, p in qs.items()}}
    return {
        "config_sha256": config_sha256(result.config),
        "p_break_by": p_break,
        "p_break_by_ci95": p_ci,
        "time_to_threshold": {"median": median.value, "ci95": [median.low, median.high],
                              "censored_fraction": _f(result.censored_fraction)},
        "mrr_final": mrr,
    }
