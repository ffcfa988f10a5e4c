"""msp-sim fit recovers known parameters: simulation-based calibration (issue 10).

Histories come from :mod:`simulator.fit.synthetic` (plain numpy, independent of
the engine), each from parameters drawn at random over plausible ranges. Over
200 replications the fitted 90% interval (the written distribution's 5th to
95th percentile) must contain the truth in 90% of them, within the binomial
99% band; and the churn interval narrows as the book grows.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulator.fit.estimate import fit_records
from simulator.fit.synthetic import history

REPS = 200
SELLING_HOURS = 40.0
# quantity -> (config key, range of the truth, the truth as the key's value)
QUANTITIES = {
    "churn_annual": ("churn.annual_rate", (0.05, 0.30), lambda v: v),
    "meetings_per_month": ("sales.meetings_per_selling_hour", (2.0, 8.0),
                           lambda v: v / SELLING_HOURS),
    "proposal_rate": ("sales.proposal_rate", (0.3, 0.7), lambda v: v),
    "close_rate": ("sales.close_rate", (0.2, 0.6), lambda v: v),
    "tickets_per_endpoint": ("tickets.per_endpoint_reactive", (0.4, 1.2), lambda v: v),
    "hours_mean": ("tickets.hours_reactive", (0.5, 1.5), lambda v: v),
    "escalation_share": ("staff.escalation_share", (0.1, 0.35), lambda v: v),
}


@pytest.fixture(scope="module")
def coverage():
    rng = np.random.default_rng(20261204)
    hits = {name: 0 for name in QUANTITIES}
    for _ in range(REPS):
        truth = {name: float(rng.uniform(*lo_hi)) for name, (_, lo_hi, _) in QUANTITIES.items()}
        h = history(rng, months=24, start_clients=12, seats_median=6.0, **truth)
        fit = fit_records(h.clients, h.deals, h.tickets, h.pnl, owner=h.owner, as_of=h.as_of,
                          selling_hours=SELLING_HOURS)
        for name, (key, _, as_value) in QUANTITIES.items():
            fitted = fit.get(key)
            assert fitted is not None, key
            low, high = fitted.interval90
            hits[name] += low <= as_value(truth[name]) <= high
    return hits


@pytest.mark.parametrize("name", list(QUANTITIES))
def test_fitted_90_intervals_cover_the_truth(coverage, name):
    low = stats.binom.ppf(0.005, REPS, 0.9)
    high = stats.binom.ppf(0.995, REPS, 0.9)
    assert low <= coverage[name] <= high, (name, coverage[name], (low, high))


def test_churn_interval_narrows_as_the_book_grows():
    widths = []
    for clients in (20, 200):
        rng = np.random.default_rng(7)
        h = history(rng, months=36, start_clients=clients, meetings_per_month=0.0,
                    churn_annual=0.12, seats_median=3.0)
        fit = fit_records(h.clients, as_of=h.as_of)
        low, high = fit.get("churn.annual_rate").interval90
        assert low < 0.12 < high or clients == 20
        widths.append(high - low)
    assert widths[1] < 0.5 * widths[0]
