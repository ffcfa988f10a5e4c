"""Analytic checks of the plain-Python reference model (simulator/reference.py).

Every ``check_*`` function takes a *runner* with the signature of
``simulator.engine.run_chunk`` (``runner(params, seeds, run) -> (metrics,
first_passage, insolvency_month)``), so the same checks run on the numba engine in
``tests/test_engine_vs_reference.py``. Here they run on the reference alone.

Statistical tolerances: a sample mean is compared with its exact expectation
within 4 standard errors (two-sided false-alarm probability 6e-5 per check
for a correct model, by the CLT); seeds are fixed, so a run is deterministic.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np

from simulator.config.loader import config_from_dict
from simulator.config.schema import DEFAULT_SUSTAIN_MONTHS, param_specs
from simulator.model.metrics import METRICS
from simulator.model.reference import first_passage, simulate_reference
from simulator.model.sampling import draw_parameters, path_seeds, prepare

Runner = Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]

# A business with nothing random going on: no selling, no churn, no tickets,
# no projects, no legacy revenue, no turnover, no costs beyond technicians
# and tools, no tax. Tests switch on what they need.
NO_COSTS: dict = {"overhead_per_month": 0.0, "overhead_per_employee_month": 0.0,
                  "overhead_per_customer_month": 0.0, "marketing_share": 0.0,
                  "owner_pay_per_month": 0.0, "tax_rate": 0.0}
"""[finance] with no cost beyond technicians and tools, and no tax."""

def _points() -> dict:
    """Every assumption at its sourced value, a number (issue 24 made them uncertain by
    default; the hand computations hold at those values)."""
    out: dict = {}
    for key, spec in param_specs().items():
        if spec.point is not None:
            section, name = key.split(".", 1)
            out.setdefault(section, {})[name] = int(spec.point) if spec.integer else spec.point
    return out


_QUIET: dict = {
    "simulation": {"months": 12},
    "start": {"customers": 0, "techs": 1, "legacy_product_revenue": 0.0,
              "legacy_project_revenue": 0.0, "cash": 1e6},
    "sales": {"meetings_per_selling_hour": 0.0, "reps": 0},
    "churn": {"annual_rate": 0.0},
    "tickets": {"per_endpoint_reactive": 0.0, "per_endpoint_aligned": 0.0,
                "proactive_hours_per_endpoint": 0.0, "proactive_hours_aligned": 0.0},
    "customers": {"price_escalator": 0.0, "onboarding_hours_per_seat": 0.0,
                  "price_per_seat": 125.0},
    "staff": {"tech_turnover_annual": 0.0, "escalation_share": 0.2,
              "management_hours_per_employee": 4.0, "tech_cost_per_month": 6500.0},
    "projects": {"per_customer_year": 0.0, "product_spend_per_seat_year": 0.0},
    "finance": NO_COSTS,
}
OWNER_SALES_HOURS = 40.0  # staff.owner_sales_hours_per_month default: meetings = rate x 40


def per_hour(meetings_per_month: float) -> float:
    """The meeting rate per selling hour that gives ``meetings_per_month`` to a free owner."""
    return meetings_per_month / OWNER_SALES_HOURS


def merged(base: dict, **sections: dict) -> dict:
    """``base`` with the given sections' keys overridden (a deep copy)."""
    out = copy.deepcopy(base)
    for section, values in sections.items():
        out.setdefault(section, {}).update(values)
    return out


QUIET: dict = merged(_points(), **_QUIET)
"""A quiet business: every assumption at its sourced value, nothing random."""


def run_paths(runner: Runner, data: dict, n_paths: int, seed: int
              ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Run ``n_paths`` paths of a config dict: metrics as ``{name: (n_paths, H+1)}``,
    first passage and insolvency month."""
    cfg = config_from_dict(data)
    run = prepare(cfg)
    params = draw_parameters(cfg, seed, 0, n_paths)
    out, fp, im = runner(params, path_seeds(seed, 0, n_paths), run)
    # path-major layout, as simulator.engine.run_chunk
    assert out.shape == (n_paths, len(METRICS), cfg.simulation.months + 1)
    assert out.dtype == np.float64 and fp.dtype == np.int64 and fp.shape == (n_paths,)
    assert im.dtype == np.int64 and im.shape == (n_paths,)
    return {name: out[:, k] for k, name in enumerate(METRICS)}, fp, im


def run_config(runner: Runner, data: dict, n_paths: int, seed: int
               ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`run_paths` without the insolvency months."""
    m, fp, _ = run_paths(runner, data, n_paths, seed)
    return m, fp


def z_score(sample: np.ndarray, expected: float) -> float:
    """Distance of the sample mean from ``expected`` in standard errors."""
    se = sample.std(ddof=1) / np.sqrt(sample.size)
    return float((sample.mean() - expected) / se)


# --------------------------------------------------------------------------
# checks (runner-agnostic)
# --------------------------------------------------------------------------

def check_seed000(runner: Runner) -> None:
    """Seed 000: Office 365 at $12.50 x 5% on 100 users is $62.50 a month."""
    office = merged(QUIET, customers={"seats": 100, "price_per_seat": 0.0},
                    cloud={"adoption": 1.0, "seat_price": 12.5, "commission_rate": 0.05,
                           "attach_uplift": 0.0})
    one = merged(office, start={"customers": 1})
    m, fp = run_config(runner, one, n_paths=4, seed=0)
    assert np.all(m["mrr"] == 62.5)
    assert np.all(m["mrr_cloud"] == 62.5) and np.all(m["mrr_managed"] == 0.0)
    assert np.all(m["customers"] == 1) and np.all(m["seats"] == 100)
    assert np.all(fp == -1)
    many = merged(office, start={"customers": 400})
    m, _ = run_config(runner, many, n_paths=2, seed=0)
    assert np.all(m["mrr"] == 25_000.0)
    assert np.all(m["revenue_cloud"][:, 1:] == 25_000.0)


# One new customer of MRR X = 10 seats x $100 per month in expectation:
# meetings ~ Poisson(2), each closing with probability 1 x 0.5, no cycle.
RULE_OF_78 = merged(
    QUIET,
    sales={"meetings_per_selling_hour": per_hour(2.0), "proposal_rate": 1.0, "close_rate": 0.5,
           "cycle_months": 0.0},
    customers={"seats": 10, "price_per_seat": 100.0, "account_hours_per_month": 0.0},
    cloud={"adoption": 0.0},
    staff={"management_hours_per_employee": 0.0},
)
X_78 = 1_000.0


def check_rule_of_78(runner: Runner, n_paths: int = 2000) -> None:
    """Seed 001: a customer a month for a year earns 78 months of MRR in the year.

    Signings D_k ~ Poisson(1) in months k = 1..12; the customer signed in month
    k pays in months k..12, so sum_{t=1}^{12} MRR_t = X sum_k (13 - k) D_k with
    mean 78 X and sd X sqrt(650) = 25.5 X per path: with 2000 paths the SE is
    0.57 X, and 4 SE is 3% of 78 X.
    """
    m, _ = run_config(runner, RULE_OF_78, n_paths=n_paths, seed=78)
    year = m["mrr"][:, 1:13].sum(axis=1)
    assert abs(z_score(year, 78 * X_78)) < 4
    # MRR is X per customer, and customers are the running sum of signings
    assert np.array_equal(m["mrr"], X_78 * m["customers"])
    assert np.array_equal(m["customers"][:, 1:], np.cumsum(m["new_customers"][:, 1:], axis=1))
    assert np.all(m["owner_sales_hours"] == 40.0)  # nothing takes the owner's time


# Queueing: constant meeting rate (nothing takes the owner's time), monthly
# churn hazard h = 0.1 (annual rate 1 - 0.9^12), no cycle.
H_Q = 0.1
LAMBDA_P = 2.0  # Poisson(4) meetings x 0.5 conversion
N0_Q = 10
QUEUE = merged(
    QUIET,
    simulation={"months": 60},
    start={"customers": N0_Q},
    sales={"meetings_per_selling_hour": per_hour(4.0), "proposal_rate": 1.0, "close_rate": 0.5,
           "cycle_months": 0.0},
    customers={"seats": 10, "account_hours_per_month": 0.0},
    churn={"annual_rate": 1.0 - (1.0 - H_Q) ** 12, "visibility_reduction": 0.0,
           "overload_sensitivity": 0.0},
    staff={"management_hours_per_employee": 0.0},
)


def expected_queue(months: int) -> np.ndarray:
    """E[n_t] under docs/model.md's step order.

    Step 5 churns the n_{t-1} customers present at the start of month t
    (survival 1 - h each); step 6 adds the month's signings (mean lambda p),
    which cannot churn in their first month: n_t = (1 - h) n_{t-1} + lambda p.
    """
    m = np.empty(months + 1)
    m[0] = N0_Q
    for t in range(1, months + 1):
        m[t] = (1 - H_Q) * m[t - 1] + LAMBDA_P
    return m


def check_queue(runner: Runner, n_paths: int = 3000) -> None:
    """Discrete-time M/M/inf queue: mean recursion and Poisson steady state.

    Six mean checks at 4 SE each (family false-alarm < 4e-4). At t = 60 the
    count is Poisson(20) up to a Binomial(10, 0.9^60) remnant of the start
    (variance differs from the mean by < 0.02); the sample variance of n
    Poisson(20) draws has relative SE sqrt((mu + 2 mu^2)/n)/mu (2.6% at 3000
    paths), and variance/mean must be within 4 of them of 1 (10.5% at 3000).
    """
    m, _ = run_config(runner, QUEUE, n_paths=n_paths, seed=11)
    n = m["customers"]
    expected = expected_queue(60)
    for t in (1, 2, 5, 12, 24, 60):
        assert abs(z_score(n[:, t], expected[t])) < 4, t
    final = n[:, 60]
    mu = 20.0
    assert abs(final.var(ddof=1) / final.mean() - 1.0) < 4 * math.sqrt((mu + 2 * mu ** 2)
                                                                     / n_paths) / mu
    # bookkeeping: n_t = n_{t-1} - churned_t + new_t
    assert np.array_equal(n[:, 1:], n[:, :-1] - m["churned"][:, 1:] + m["new_customers"][:, 1:])


def check_no_sales_no_churn(runner: Runner) -> None:
    """With zero meetings and no churn the customer count never changes (all else default)."""
    data = {"simulation": {"months": 60}, "start": {"customers": 15, "cash": 1e7},
            "sales": {"meetings_per_selling_hour": 0.0, "reps": 0},
            "churn": {"annual_rate": 0.0}, "staff": {"tech_turnover_annual": 0.0}}
    m, _ = run_config(runner, data, n_paths=50, seed=5)
    assert np.all(m["customers"] == 15)
    assert np.all(m["new_customers"] == 0) and np.all(m["churned"] == 0)
    assert np.all(m["meetings"] == 0)
    assert np.all(m["seats"] == m["seats"][:, :1])  # the same customers all along
    assert np.all(m["tickets"][:, 1:] > 0)  # the rest of the model is running


def check_renewal_churn(runner: Runner, n_paths: int = 400) -> None:
    """``churn.mode = "renewal"`` with 12-month contracts: each customer renews once a year.

    Renewals of the starting book are spread over the term, so in months 1..12
    every customer renews exactly once and leaves with probability
    1 - (1 - h)^12 = the annual rate (0.2 here); the survivors' price rises by
    the escalator exactly once. Churned per path ~ Binomial(100, 0.2).
    """
    data = merged(QUIET, start={"customers": 100},
                  customers={"seats": 10, "price_per_seat": 100.0, "price_escalator": 0.05,
                             "contract_months": 12, "account_hours_per_month": 0.0},
                  cloud={"adoption": 0.0},
                  churn={"mode": "renewal", "annual_rate": 0.2, "visibility_reduction": 0.0})
    m, _ = run_config(runner, data, n_paths=n_paths, seed=12)
    lost = m["churned"][:, 1:].sum(axis=1)
    assert abs(z_score(lost, 20.0)) < 4
    np.testing.assert_allclose(m["mrr_managed"][:, 12], m["customers"][:, 12] * 1000 * 1.05,
                               rtol=1e-12)
    # churn in each month is spread (about 100/12 renewals a month), never all at once
    assert m["churned"][:, 1:].mean(axis=0).min() > 0


def check_month0(runner: Runner) -> None:
    """Month 0 is the starting state with no activity (docs/model.md, Month 0)."""
    data = {"start": {"customers": 7, "techs": 3, "cash": 12_345.0},
            "staff": {"owner_sales_hours_per_month": 33.0}}
    m, fp = run_config(runner, data, n_paths=20, seed=3)
    for name in ("meetings", "new_customers", "churned", "tickets", "ticket_hours",
                 "utilization", "unserved_share", "revenue_products", "revenue_projects",
                 "revenue_managed", "revenue_cloud", "pretax_profit", "alignment_staff"):
        assert np.all(m[name][:, 0] == 0), name
    assert np.all(m["customers"][:, 0] == 7) and np.all(m["techs"][:, 0] == 3)
    assert np.all(m["cash"][:, 0] == 12_345.0)
    assert np.all(m["owner_sales_hours"][:, 0] == 33.0)
    assert np.all(m["seats"][:, 0] >= 7)
    np.testing.assert_allclose(m["mrr"], m["mrr_managed"] + m["mrr_cloud"], rtol=1e-12)
    # first passage agrees with the MRR trajectory (the default sustained break)
    for i in range(20):
        assert fp[i] == first_passage(m["mrr"][i], 100_000.0, DEFAULT_SUSTAIN_MONTHS)


def check_first_passage_sustain(runner: Runner) -> None:
    """``sustain_months`` counts consecutive months at/above the threshold, month 0 included."""
    data = merged(RULE_OF_78, simulation={"months": 36, "threshold_mrr": 5_000.0,
                                          "sustain_months": 3})
    m, fp = run_config(runner, data, n_paths=200, seed=9)
    for i in range(200):
        assert fp[i] == first_passage(m["mrr"][i], 5_000.0, 3)
    assert np.all((fp == -1) | (fp >= 2))
    # already above at the start: month 0 counts, the passage is month 2
    data = merged(data, start={"customers": 6})
    _, fp = run_config(runner, data, n_paths=20, seed=9)
    assert np.all(fp == 2)


def check_alignment_staffing(runner: Runner) -> None:
    """Alignment staff are posted one a month and arrive after the hire lag.

    40 customers, 20 per manager: target 2. Months 1 and 2 post a hire each
    (lag 2: arriving in months 3 and 4). Month 3: one manager covers the 20
    longest-standing customers (+0.1 each, mean 0.05); month 4: two managers
    cover all 40 (mean 0.15).
    """
    data = merged(QUIET, start={"customers": 40, "cash": 1e7},
                  customers={"seats": 10},
                  staff={"hire_lag_months": 2},
                  alignment={"enabled": True, "start_month": 0, "clients_per_staff": 20.0,
                             "rate": 0.1, "drift": 0.02, "staff_points_per_month": 2.0})
    m, _ = run_config(runner, data, n_paths=2, seed=4)
    assert np.all(m["alignment_staff"][:, :7] == [0, 0, 0, 1, 2, 2, 2])
    np.testing.assert_allclose(m["alignment_mean"][:, :5], [[0, 0, 0, 0.05, 0.15]] * 2,
                               atol=1e-12)
    # model v4: the speed is the staff's: one manager set to 40 clients (one hire) with
    # the same 2 points a month still works on 20 clients at 0.1 (mean +0.05 a month)
    one = merged(data, alignment={"clients_per_staff": 40.0})
    m, _ = run_config(runner, one, n_paths=2, seed=4)
    assert np.all(m["alignment_staff"][:, :7] == [0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(m["alignment_mean"][:, 3:6], [[0.05, 0.1, 0.15]] * 2,
                               atol=1e-12)


def check_cash_identity(runner: Runner) -> None:
    """Cash moves by pretax profit less tax, exactly; tax is the rate times a
    year's positive pretax profit, paid in months 12, 24, 36 only; a drawn
    credit line costs its interest."""
    data = merged(merged({}, simulation={"months": 36}, start={"customers": 14, "techs": 3,
                                                                 "cash": 10_000.0}),
                  finance={"tax_rate": 0.25, "credit_limit": 200_000.0,
                           "credit_annual_rate": 0.12})
    m, _, im = run_paths(runner, data, n_paths=60, seed=21)
    alive = im < 0
    assert alive.sum() >= 30
    cash, pretax, tax = m["cash"][alive], m["pretax_profit"][alive], m["tax_paid"][alive]
    np.testing.assert_array_equal(cash[:, 1:] - cash[:, :-1] == 0, (pretax - tax)[:, 1:] == 0)
    np.testing.assert_allclose(cash[:, 1:], cash[:, :-1] + pretax[:, 1:] - tax[:, 1:],
                               rtol=0, atol=1e-6)
    months = np.arange(37)
    assert np.all(tax[:, months % 12 != 0] == 0)
    for year in range(3):
        profit = pretax[:, 12 * year + 1:12 * year + 13].sum(axis=1)
        np.testing.assert_allclose(tax[:, 12 * year + 12], 0.25 * np.maximum(profit, 0),
                                   rtol=1e-9, atol=1e-6)
    assert (cash < 0).any()  # the credit line was drawn on some paths


def check_insolvency(runner: Runner) -> None:
    """No cash, no credit, a loss every month: insolvent in month 1; from then
    on MRR, revenue and customers are 0, cash stays at the deficit, and the
    threshold is never broken afterwards."""
    data = merged(QUIET, simulation={"months": 24, "threshold_mrr": 1_000.0,
                                     "sustain_months": 1},
                  start={"customers": 3, "cash": 0.0},
                  customers={"seats": 10, "price_per_seat": 100.0},
                  finance={"owner_pay_per_month": 10_000.0, "credit_limit": 0.0})
    m, fp, im = run_paths(runner, data, n_paths=5, seed=2)
    assert np.all(im == 1)
    for name in ("mrr", "customers", "revenue_managed", "techs", "seats"):
        assert np.all(m[name][:, 1:] == 0), name
    assert np.all(m["mrr"][:, 0] >= 3_000.0) and np.all(fp == 0)  # broken at month 0 only
    assert np.all(m["cash"][:, 1:] == m["cash"][:, 1:2]) and np.all(m["cash"][:, 1] < 0)
    # a credit line large enough keeps the same business alive, and it breaks the threshold
    m, fp, im = run_paths(runner, merged(data, finance={"credit_limit": 1e6}), 5, seed=2)
    assert np.all(im == -1) and np.all(m["customers"][:, -1] == 3)


def check_selling_hours(runner: Runner, n_paths: int = 2000) -> None:
    """Meetings follow the owner's selling hours: Poisson(rate x hours) when the
    owner has the time; 20 hours give half the meetings of 40."""
    for hours in (20.0, 40.0):
        data = merged(QUIET, sales={"meetings_per_selling_hour": 0.1},
                      staff={"owner_sales_hours_per_month": hours})
        m, _ = run_config(runner, data, n_paths=n_paths, seed=5)
        assert np.all(m["owner_sales_hours"][:, 1:] == hours)
        assert abs(z_score(m["meetings"][:, 1:].sum(axis=1), 12 * 0.1 * hours)) < 4


def check_rep_ramp(runner: Runner, n_paths: int = 2000) -> None:
    """A rep starting in month 4 with a 4-month ramp: meetings 0, 0, 0, then
    2, 4, 6, 8, 8, ... a month (8 at full productivity); the rep is paid from month 4."""
    sales = {"reps": 1, "rep_start_month": 4, "rep_ramp_months": 4.0,
             "rep_meetings_per_month": 8.0, "rep_cost_per_month": 7000.0, "proposal_rate": 0.0,
             "rep_washout_share": 0.0, "rep_productivity": 1.0}
    m, _ = run_config(runner, merged(QUIET, sales=sales), n_paths=n_paths, seed=6)
    expected = [0, 0, 0, 0, 2, 4, 6, 8, 8, 8, 8, 8, 8]
    for t in range(1, 13):
        if expected[t] == 0:
            assert np.all(m["meetings"][:, t] == 0), t
        else:
            assert abs(z_score(m["meetings"][:, t], expected[t])) < 4, t
    # one technician ($6,500) all year, the rep ($7,000) from month 4; nothing else
    assert np.all(m["pretax_profit"][:, 1:4] == -6_500.0)
    assert np.all(m["pretax_profit"][:, 4:] == -13_500.0)
    # a rep who washes out books a share of the firing line (half of plan): let go
    # 4 + 4 (the ramp) + 2 review months in: paid in months 4..9, no meetings from 10
    sales.update(rep_washout_share=1.0, rep_fire_below=0.5, rep_review_months=2)
    m, _ = run_config(runner, merged(QUIET, sales=sales), n_paths=200, seed=6)
    assert np.all(m["pretax_profit"][:, 4:10] == -13_500.0)
    assert np.all(m["pretax_profit"][:, 10:] == -6_500.0)
    assert np.all(m["meetings"][:, 10:] == 0) and m["meetings"][:, 7:10].mean() < 4.0


def check_turnover(runner: Runner, n_paths: int = 2000) -> None:
    """Technicians quit at the turnover rate when nobody is hired: after 12
    months each of 10 technicians is still there with probability 1 - 0.3."""
    data = merged(QUIET, start={"techs": 10},
                  staff={"tech_turnover_annual": 0.3, "hire_above": 10.0, "layoff_below": 0.0})
    m, _ = run_config(runner, data, n_paths=n_paths, seed=8)
    assert abs(z_score(m["techs"][:, 12], 10 * 0.7)) < 4
    np.testing.assert_array_equal(m["techs"][:, 1:], 10 - np.cumsum(m["tech_quits"][:, 1:], 1))


# --------------------------------------------------------------------------
# the reference
# --------------------------------------------------------------------------

def test_seed000_arithmetic():
    check_seed000(simulate_reference)


def test_rule_of_78():
    check_rule_of_78(simulate_reference)


def test_queue_mean_and_poisson_steady_state():
    # 1,000 plain-Python paths (16 s for 3,000 in CI): the engine runs the same check
    # with 3,000 (tests/test_engine_vs_reference.py) and is held to this twin there
    check_queue(simulate_reference, n_paths=1000)


def test_zero_meetings_no_churn_keeps_customers():
    check_no_sales_no_churn(simulate_reference)


def test_renewal_churn():
    check_renewal_churn(simulate_reference)


def test_month0_state():
    check_month0(simulate_reference)


def test_first_passage_sustain():
    check_first_passage_sustain(simulate_reference)


def test_alignment_staffing():
    check_alignment_staffing(simulate_reference)


def test_cash_identity():
    check_cash_identity(simulate_reference)


def test_insolvency():
    check_insolvency(simulate_reference)


def test_selling_hours():
    check_selling_hours(simulate_reference)


def test_rep_ramp():
    check_rep_ramp(simulate_reference)


def test_turnover():
    check_turnover(simulate_reference)


def test_expected_queue_recursion_converges():
    # the steady state of n = (1 - h) n + lambda p is lambda p / h = 20
    assert abs(expected_queue(200)[-1] - LAMBDA_P / H_Q) < 1e-6


def test_reference_is_reproducible_and_prefix_stable():
    cfg = config_from_dict({"simulation": {"months": 24}, "start": {"customers": 5}})
    run = prepare(cfg)
    params = draw_parameters(cfg, 1, 0, 6)
    seeds = path_seeds(1, 0, 6)
    a, fa, ia = simulate_reference(params, seeds, run)
    b, fb, ib = simulate_reference(params[2:4], seeds[2:4], run)
    assert np.array_equal(a[2:4], b) and np.array_equal(fa[2:4], fb)
    assert np.array_equal(ia[2:4], ib)
