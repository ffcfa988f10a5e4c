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
from dataclasses import dataclass
from typing import Any

import numpy as np

from .estimate import FitResult
from .history import (
    DAYS_PER_MONTH,
    active_clients,
    add_months,
    records_until,
    records_window,
)
from .records import Client, Deal, PnlMonth, Ticket, WorkEntry

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
                       "predictive bands; a month before a file's first record is not "
                       "scored"),
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
            out.append(f"{words}: {s['coverage50']:.0%} of {len(s['months'])} months inside the "
                       f"50% band, {s['coverage90']:.0%} inside the 90% band; mean PIT "
                       f"{np.mean(s['pit']):.2f} (0.5 when unbiased)")
        return out


def _actual(clients: list[Client], tickets: list[Ticket], cutoff: datetime.date,
            holdout: int) -> dict[str, np.ndarray]:
    start = cutoff + datetime.timedelta(days=1)
    mrr, count, raised = [], [], []
    for t in range(1, holdout + 1):
        end = add_months(start, t) - datetime.timedelta(days=1)
        first = add_months(start, t - 1)
        active = active_clients(clients, end)
        mrr.append(sum(c.fee_at(end) for c in active))
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
             sources: dict[str, str] | None = None, work: list[WorkEntry] | None = None,
             base: dict[str, Any] | None = None,
             overrides: dict[str, Any] | None = None,
             warnings: list[str] | None = None) -> BacktestResult:
    """Fit on the records before the last ``holdout`` months (the whole fit: per-column
    estimates, calibration against the history up to then), simulate them, compare.
    ``base`` (``--config``) and ``overrides`` (``--set``, held as given) as in
    :func:`~simulator.fit.fit_business`.

    Raises
    ------
    ValueError
        Fewer than 12 months of records before the holdout.
    """
    from . import fit_business
    from .calibrate import simulate_fitted
    from .config_table import config_data

    deals, tickets, pnl = list(deals or ()), list(tickets or ()), list(pnl or ())
    window = records_window(clients, deals, tickets, pnl, work)
    if window is None:
        raise ValueError("no dated records; allowed: at least one row")
    end = as_of or window[1]
    cutoff = add_months(end.replace(day=1), -holdout + 1) - datetime.timedelta(days=1)
    history_months = (cutoff - window[0]).days / DAYS_PER_MONTH
    if history_months < 12:
        raise ValueError(f"only {history_months:.0f} months of records before the last "
                         f"{holdout}; allowed: at least 12 months before the holdout")
    cut = records_until(list(clients), deals, tickets, pnl, work, cutoff)
    records = dict(zip(("clients", "deals", "tickets", "pnl", "work"), cut, strict=True))
    records["sources"] = sources or {}
    records["warnings"] = list(warnings or ())
    options = dict(fit_options or {})
    fit = fit_business(records, owner=owner, as_of=cutoff, base=base, overrides=overrides,
                       replay_months=min(24, int(history_months) - 1), **options)
    run = simulate_fitted(config_data(fit), holdout, n_paths, seed, source="backtest")
    actual = _actual(list(clients), tickets, cutoff, holdout)
    starts = [add_months(cutoff + datetime.timedelta(days=1), t - 1)
              for t in range(1, holdout + 1)]
    client_dates = [c.start for c in clients]
    series = {}
    for name in SERIES:
        if name == "tickets" and not tickets:
            continue
        # a month before the file's first record is unknown, not zero: not scored
        first = min([t.created for t in tickets] if name == "tickets" else client_dates)
        scored = np.array([first.replace(day=1) <= m for m in starts])
        if not scored.any():
            continue
        sims = np.asarray(run[name][:, 1:], dtype=np.float64)[:, scored]
        q = np.quantile(sims, BANDS, axis=0)
        a = actual[name][scored]
        below = (sims < a).mean(axis=0)
        ties = (sims == a).mean(axis=0)
        pit = below + 0.5 * ties
        inside50 = (q[1] <= a) & (a <= q[3])
        inside90 = (q[0] <= a) & (a <= q[4])
        series[name] = {
            "months": [m.isoformat()[:7] for m, ok in zip(starts, scored, strict=True) if ok],
            "month_after_cutoff": [t + 1 for t in np.flatnonzero(scored).tolist()],
            "actual": a.tolist(),
            "q05": q[0].tolist(), "q25": q[1].tolist(), "q50": q[2].tolist(),
            "q75": q[3].tolist(), "q95": q[4].tolist(),
            "pit": pit.tolist(),
            "coverage50": float(inside50.mean()),
            "coverage90": float(inside90.mean()),
        }
    return BacktestResult(cutoff=cutoff, holdout=holdout, n_paths=n_paths, seed=seed, fit=fit,
                          series=series)
