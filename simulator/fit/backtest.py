"""``msp-sim backtest``: how well the fitted model would have predicted the last months.

Fit on everything before the last ``holdout`` months (clients still active then
are censored there, deals decided later are open, later tickets and P&L months
are left out), simulate ``holdout`` months from the business as it was then
(its book exactly), and compare month by month with what happened: managed
MRR (the fees of the clients active at each month's end), the client count and
the tickets raised. For each series and month: the predictive quantiles, the
PIT value (the share of simulated futures below the actual, ties counted half)
and whether the actual fell inside the 50% and 90% predictive bands; per
series, the coverage of each band over the months.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .estimate import DAYS_PER_MONTH, FitResult, fit_records
from .records import Client, Deal, PnlMonth, Ticket

__all__ = ["SERIES", "BacktestResult", "backtest"]

SERIES: dict[str, tuple[str, str]] = {
    "mrr_managed": ("managed MRR", "$/month"),
    "customers": ("clients", "clients"),
    "tickets": ("tickets raised", "tickets/month"),
}
"""Series compared: model metric -> (words, unit)."""

DRIVERS: dict[str, str] = {
    "mrr_managed": "churn.annual_rate, customers.price_per_seat and the sales rates (sales.*)",
    "customers": "churn.annual_rate and the sales rates (sales.*)",
    "tickets": "tickets.per_endpoint_reactive and customers.endpoints_per_seat",
}
"""The inputs that move each series most: where a miss sends the reader."""
PIT_BIAS = 0.25
"""A mean PIT this far from 0.5 says the forecast sits too high or too low."""
COVERAGE90_LOW = 2 / 3
"""Below this share of months in the 90% band (nominal 9 in 10) the bands are too narrow."""

BANDS = (0.05, 0.25, 0.5, 0.75, 0.95)


def _add_months(date: datetime.date, months: int) -> datetime.date:
    index = date.year * 12 + date.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass
class BacktestResult:
    """Predicted against actual, month by month."""

    cutoff: datetime.date
    holdout: int
    n_paths: int
    seed: int
    fit: FitResult
    series: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """``backtest.json``."""
        return {
            "cutoff": self.cutoff.isoformat(),
            "holdout_months": self.holdout,
            "n_paths": self.n_paths,
            "seed": self.seed,
            "method": ("fit on the records up to the cutoff, simulate the holdout months from "
                       "the business as it was then (its book exactly), compare month by "
                       "month: PIT = share of simulated futures below the actual (ties "
                       "counted half); coverage = share of months inside the 50% and 90% "
                       "predictive bands"),
            "series": self.series,
            "verdict": list(self.verdict()),
        }

    def verdict(self) -> tuple[str, str]:
        """The verdict in one sentence, and the next step in one sentence.

        A series misses when its mean PIT is more than :data:`PIT_BIAS` from 0.5 (what
        happened sat above, or below, most futures) or fewer than :data:`COVERAGE90_LOW`
        of its months fall inside the 90% band; with a few holdout months either can
        happen by chance, so the next step asks for the inputs to be checked, not
        replaced.
        """
        misses: list[tuple[str, str, str]] = []  # series, what happened, how to read runs
        for name, s in self.series.items():
            words = SERIES[name][0]
            pit = float(np.mean(s["pit"]))
            if pit > 0.5 + PIT_BIAS:
                misses.append((name, f"{words} came in above most simulated futures (the "
                                     f"model predicts too low; mean PIT {pit:.2f})",
                               f"pessimistic for {words}"))
            elif pit < 0.5 - PIT_BIAS:
                misses.append((name, f"{words} came in below most simulated futures (the "
                                     f"model predicts too high; mean PIT {pit:.2f})",
                               f"optimistic for {words}"))
            elif s["coverage90"] < COVERAGE90_LOW:
                misses.append((name, f"{words} fell outside the 90% band in "
                                     f"{1 - s['coverage90']:.0%} of the months (the bands are "
                                     "too narrow)", f"too sure for {words}"))
        if not misses:
            return (f"Verdict: the model's forecasts held over the {self.holdout} months "
                    "after the cutoff: what happened sat inside its bands about as often as "
                    "the bands say, with no lean above or below.",
                    "Next step: fit on all your records (msp-sim fit) and read the run's "
                    "chances with their bands; rerun this backtest when a few more months of "
                    "records have come in.")
        checks = "; ".join(f"{SERIES[name][0]}: {DRIVERS[name]}" for name, _, _ in misses)
        reads = " and ".join(read for _, _, read in misses)
        return (f"Verdict: the model missed over the {self.holdout} months after the "
                f"cutoff: " + "; ".join(text for _, text, _ in misses) + ".",
                f"Next step: check the inputs behind it against your records ({checks}), "
                "set them in the fitted config and rerun the backtest (over a few months a "
                f"miss can be chance); until it holds, read the run's chances as {reads}.")

    def lines(self) -> list[str]:
        """One line per series: its coverage against the bands' nominal 50% and 90%."""
        out = []
        for name, s in self.series.items():
            words = SERIES[name][0]
            out.append(f"{words}: {s['coverage50']:.0%} of {self.holdout} months inside the "
                       f"50% band, {s['coverage90']:.0%} inside the 90% band; mean PIT "
                       f"{np.mean(s['pit']):.2f} (0.5 when unbiased)")
        return out


def _truncate(clients: list[Client], deals: list[Deal], tickets: list[Ticket],
              pnl: list[PnlMonth], cutoff: datetime.date
              ) -> tuple[list[Client], list[Deal], list[Ticket], list[PnlMonth]]:
    c_out = [replace(c, end=None if c.end is not None and c.end > cutoff else c.end)
             for c in clients if c.start <= cutoff]
    d_out = [d if d.close_date is None or d.close_date <= cutoff
             else replace(d, outcome="open", close_date=None)
             for d in deals if d.date <= cutoff]
    t_out = [t for t in tickets if t.created <= cutoff]
    p_out = [m for m in pnl if m.month < cutoff.replace(day=1)]
    return c_out, d_out, t_out, p_out


def _actual(clients: list[Client], tickets: list[Ticket], cutoff: datetime.date,
            holdout: int) -> dict[str, np.ndarray]:
    start = cutoff + datetime.timedelta(days=1)
    mrr, count, raised = [], [], []
    for t in range(1, holdout + 1):
        end = _add_months(start, t) - datetime.timedelta(days=1)
        first = _add_months(start, t - 1)
        active = [c for c in clients if c.start <= end and (c.end is None or c.end > end)]
        mrr.append(sum(c.monthly_fee for c in active))
        count.append(len(active))
        raised.append(sum(first <= k.created <= end for k in tickets))
    return {"mrr_managed": np.array(mrr, dtype=np.float64),
            "customers": np.array(count, dtype=np.float64),
            "tickets": np.array(raised, dtype=np.float64)}


def backtest(clients: list[Client], deals: list[Deal] | None = None,
             tickets: list[Ticket] | None = None, pnl: list[PnlMonth] | None = None, *,
             holdout: int = 12, as_of: datetime.date | None = None, n_paths: int = 2000,
             seed: int = 20261123, owner: str | None = None,
             fit_options: dict[str, Any] | None = None,
             sources: dict[str, str] | None = None) -> BacktestResult:
    """Fit on the records before the last ``holdout`` months, simulate them, compare.

    Raises
    ------
    ValueError
        Fewer than 12 months of records before the holdout.
    """
    from ..api import simulate
    from . import fitted_config

    deals, tickets, pnl = list(deals or ()), list(tickets or ()), list(pnl or ())
    dates = [c.start for c in clients] + [c.end for c in clients if c.end]
    dates += [d.date for d in deals] + [t.created for t in tickets]
    end = as_of or max(dates)
    cutoff = _add_months(end.replace(day=1), -holdout + 1) - datetime.timedelta(days=1)
    history_months = (cutoff - min(dates)).days / DAYS_PER_MONTH
    if history_months < 12:
        raise ValueError(f"only {history_months:.0f} months of records before the last "
                         f"{holdout}; allowed: at least 12 months before the holdout")
    fit = fit_records(*_truncate(list(clients), deals, tickets, pnl, cutoff), owner=owner,
                      as_of=cutoff, sources=sources, **(fit_options or {}))
    config = fitted_config(fit, "backtest")
    config = config.model_copy(update={"simulation": config.simulation.model_copy(
        update={"months": holdout})})
    run = simulate(config, n_paths=n_paths, seed=seed, progress=False, keep_paths=True)
    actual = _actual(list(clients), tickets, cutoff, holdout)
    series = {}
    for name in SERIES:
        if name == "tickets" and not tickets:
            continue
        sims = np.asarray(run[name][:, 1:], dtype=np.float64)
        q = np.quantile(sims, BANDS, axis=0)
        a = actual[name]
        below = (sims < a).mean(axis=0)
        ties = (sims == a).mean(axis=0)
        pit = below + 0.5 * ties
        inside50 = (q[1] <= a) & (a <= q[3])
        inside90 = (q[0] <= a) & (a <= q[4])
        series[name] = {
            "months": [_add_months(cutoff + datetime.timedelta(days=1), t - 1).isoformat()[:7]
                       for t in range(1, holdout + 1)],
            "actual": a.tolist(),
            "q05": q[0].tolist(), "q25": q[1].tolist(), "q50": q[2].tolist(),
            "q75": q[3].tolist(), "q95": q[4].tolist(),
            "pit": pit.tolist(),
            "coverage50": float(inside50.mean()),
            "coverage90": float(inside90.mean()),
        }
    return BacktestResult(cutoff=cutoff, holdout=holdout, n_paths=n_paths, seed=seed, fit=fit,
                          series=series)
