"""The engine's survival clocks in extreme regimes, against the reference and
the closed form.

Hazard-mode churn in the engine compares each customer's threshold with the
path's survival product (docs/model.md, "How the engine keeps a month
cheap"). With annual churn 0.999999 the monthly hazard is
h = 1 - 1e-6**(1/12) = 0.684, the product underflows past 1e-250 after about
500 months and is rescaled; with an overloaded shop the hazard hits 1.
"""

from __future__ import annotations

import numpy as np
from test_reference import NO_COSTS

from simulator.config.loader import config_from_dict
from simulator.engine import run_chunk
from simulator.model.metrics import METRICS
from simulator.model.reference import simulate_reference
from simulator.model.sampling import draw_parameters, path_seeds, prepare

CUSTOMERS = METRICS.index("customers")
CHURNED = METRICS.index("churned")

# Feedback and money off: no tickets or other technician work, no owner
# duties, no costs; a salesperson who stays (no washout) at full speed from month 1 makes
# Poisson(2) meetings a month, one deal a month in expectation.
QUIET = {
    "tickets": {"per_endpoint_reactive": 0, "per_endpoint_aligned": 0,
                "proactive_hours_per_endpoint": 0},
    "customers": {"account_hours_per_month": 0, "seats": 10, "price_per_seat": 100,
                  "onboarding_hours_per_seat": 0},
    "staff": {"management_hours_per_employee": 0, "escalation_share": 0,
              "tech_turnover_annual": 0, "tech_cost_per_month": 0},
    "sales": {"meetings_per_selling_hour": 0, "reps": 1, "rep_meetings_per_month": 2,
              "rep_ramp_months": 0, "rep_cost_per_month": 0, "proposal_rate": 1,
              "close_rate": 0.5, "cycle_months": 0, "rep_washout_share": 0,
              "rep_productivity": 1},
    "finance": dict(NO_COSTS),
    "churn": {"visibility_reduction": 0, "annual_rate": 0.999999},
    "start": {"customers": 5},
    "simulation": {"months": 600},
    "projects": {"per_customer_year": 0},
}


def _run(runner, cfg, n, seed):
    params = draw_parameters(cfg, seed, 0, n)
    out, _, _ = runner(params, path_seeds(seed, 0, n), prepare(cfg))
    return out


def test_survival_rescaling_keeps_the_steady_state():
    cfg = config_from_dict(QUIET)
    h = 1 - 1e-6 ** (1 / 12)
    # New customers cannot leave in their signing month, then leave with
    # probability h each month: mean book = (deals per month) / h.
    expected = 1.0 / h
    engine = _run(run_chunk, cfg, 2000, 1)[:, CUSTOMERS, 480:]
    reference = _run(simulate_reference, cfg, 150, 2)[:, CUSTOMERS, 480:]
    for sample in (engine, reference):
        per_path = sample.mean(axis=1)  # independent across paths
        se = per_path.std(ddof=1) / np.sqrt(per_path.size)
        assert abs(per_path.mean() - expected) < 4 * se, (per_path.mean(), expected, se)


def test_hazard_of_one_empties_the_book_every_month():
    # No technicians (none hired within the horizon), an owner with no hours
    # and overload sensitivity 20: the unserved share is 1 every month, the
    # service failure customers remember is at least 1/3 from month 1, so
    # h = min(1, h0 x exp(20 / 3)) = min(1, 0.056 x 786) = 1 every month.
    data = {**QUIET,
            "tickets": {"per_endpoint_reactive": 1.0, "per_endpoint_aligned": 1.0},
            "staff": {**QUIET["staff"], "owner_hours_per_month": 0, "hire_above": 10,
                      "hire_lag_months": 60},
            "churn": {"visibility_reduction": 0, "annual_rate": 0.5,
                      "overload_sensitivity": 20},
            "start": {"customers": 5, "techs": 0},
            "simulation": {"months": 24}}
    cfg = config_from_dict(data)
    for runner, n in ((run_chunk, 300), (simulate_reference, 50)):
        out = _run(runner, cfg, n, 3)
        customers, churned = out[:, CUSTOMERS], out[:, CHURNED]
        # every customer present at the start of a month leaves in it, so the
        # book at the end of a month is exactly that month's signings
        np.testing.assert_array_equal(churned[:, 1:], customers[:, :-1])
