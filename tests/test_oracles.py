"""Independent oracles: docs/model.md's equations, computed here by hand.

tests/test_engine_vs_reference.py holds the engine to the plain-Python
reference; a bug put in both (the reference copies the kernel step by step)
passes there. The cases below are written from docs/model.md alone, a few
lines of arithmetic each, and run on both runners:

- interest on the drawn credit line (``credit_annual_rate / 12``), tax on a
  year's positive pretax profit, no carry-back;
- one month's P&L line by line (tools, technicians, overtime at its premium,
  commissions, projects, products, the rep, overhead, marketing, the owner's
  pay, the bonus pool);
- the hiring rule (overload months running, the lag, the money rule) and
  letting go (idle months running);
- escalations of both ticket types, all the owner's below the lead size and his
  kept share from it on, with the tiered desk's faster reactive tickets (model v3);
- the meeting rate with a rep's linear ramp;
- the month's churn hazard (visibility by paid account care, convex in the
  remembered unserved share);
- a strained month (overtime) remembered as service failure, conceded at renewal
  and costing referrals (model v3);
- the sustained break by default (6 months, model v3);
- maintenance debt: built from the maintenance an overloaded team skips, paid off at its
  time constant, raising the ticket rate (model v3);
- the owner's month with the strain of overtime in the felt failure (model v3;
  ``test_owners_month_by_hand``: one test to update when the model changes it);
- an accounting re-build of every month's P&L and cash of every shipped
  config from the engine's outputs and each path's parameters.

Deterministic cases are exact up to float rounding (``rtol = 1e-12``);
stochastic ones compare a sample mean with its expectation within 4 standard
errors (false alarm 6e-5 each; seeds fixed).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from test_reference import QUIET, merged, run_paths, z_score

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))



def test_standard_stack_is_charged_on_aligned_endpoints(runner):
    """Ten clients of 10 seats, 1.5 endpoints a seat, half aligned and no drift: the
    standard stack at $10 an aligned endpoint takes 10 x 1.5 x 100 x 0.5 = $750 a month
    from managed-services gross profit, and nothing else moves (docs/model.md step 9)."""
    data = merged(BOOK, start={"alignment_score": 0.5},
                  customers={"endpoints_per_seat": 1.5}, alignment={"drift": 0.0})
    free, _, _ = run_paths(runner, merged(data, finance={
        "standard_stack_cost_per_endpoint": 0.0}), n_paths=2, seed=5)
    paid, _, _ = run_paths(runner, merged(data, finance={
        "standard_stack_cost_per_endpoint": 10.0}), n_paths=2, seed=5)
    np.testing.assert_allclose(free["gross_profit_managed"][:, 1:]
                               - paid["gross_profit_managed"][:, 1:], 750.0, rtol=1e-12)
    for name in ("revenue_managed", "gross_profit_projects", "work_hours"):
        np.testing.assert_array_equal(free[name], paid[name])


# A small business with nothing random: 10 customers of 10 seats at $100, one
# endpoint a seat, one technician (140 hours, $6,500), an owner with 200 hours
# and nothing to manage, no hiring, no letting go, nothing sold, and renewals at
# today's price (no concession for a strained month: its own test below).
SURE_REP = {"rep_washout_share": 0.0, "rep_productivity": 1.0}
"""A salesperson who stays and books the plan (model v4 draws washouts and productivity)."""

BOOK = merged(
    QUIET,
    start={"customers": 10, "techs": 1, "cash": 1e6},
    customers={"seats": 10, "price_per_seat": 100.0, "endpoints_per_seat": 1.0,
               "account_hours_per_month": 0.0, "contract_months": 12,
               "renewal_concession": 0.0},
    cloud={"adoption": 0.0},
    staff={"owner_hours_per_month": 200.0, "owner_sales_hours_per_month": 40.0,
           "management_hours_per_employee": 0.0, "tech_hours_per_month": 140.0,
           "tech_cost_per_month": 6500.0, "hire_above": 10.0, "layoff_below": 0.0,
           "overtime_max_share": 0.15, "overtime_premium": 1.5, "backlog_carry": 0.5,
           "overtime_fatigue": 0.0},
    finance={"tools_share": 0.12, "profit_share": 0.1, "credit_limit": 50_000.0,
             "credit_annual_rate": 0.10},
)
HOURLY = 6500.0 / 140.0  # a technician's cost per contracted hour


def test_interest_is_the_monthly_rate_on_the_drawn_credit(runner):
    """No revenue, no staff, $10,000 drawn at 12% a year: 1% a month, compounding."""
    data = merged(BOOK, start={"customers": 0, "techs": 0, "cash": -10_000.0},
                  finance={"credit_limit": 1e6, "credit_annual_rate": 0.12})
    m, _, im = run_paths(runner, data, n_paths=2, seed=1)
    t = np.arange(13)
    np.testing.assert_allclose(m["cash"], np.broadcast_to(-10_000.0 * 1.01 ** t, (2, 13)),
                               rtol=1e-12)
    np.testing.assert_allclose(m["pretax_profit"][:, 1:], -0.01 * -m["cash"][:, :-1],
                               rtol=1e-12)  # a loss: no bonus pool
    assert np.all(im == -1)
    # cash on hand earns nothing: the same business with $10,000 in the bank
    m, _, _ = run_paths(runner, merged(data, start={"cash": 10_000.0}), n_paths=2, seed=1)
    assert np.all(m["pretax_profit"][:, 1:] == 0.0) and np.all(m["cash"] == 10_000.0)


def test_tax_on_a_years_positive_profit_without_carry_back(runner):
    """Year 1: $10,000 managed x 0.88 - $6,500 = $2,300, less the 10% bonus pool
    = $2,070 a month, taxed 25% in month 12. Year 2: a rep ($5,000) from month 13
    makes every month a $2,700 loss: no tax, and none given back."""
    data = merged(BOOK, simulation={"months": 24},
                  sales={"reps": 1, "rep_start_month": 13, "rep_cost_per_month": 5000.0,
                         "rep_meetings_per_month": 0.0, **SURE_REP},
                  finance={"tax_rate": 0.25})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    profit = np.array([0.0] + [2070.0] * 12 + [-2700.0] * 12)
    np.testing.assert_allclose(m["pretax_profit"], np.broadcast_to(profit, (2, 25)),
                               rtol=1e-12)
    tax = np.zeros(25)
    tax[12] = 0.25 * 12 * 2070.0
    np.testing.assert_allclose(m["tax_paid"], np.broadcast_to(tax, (2, 25)), rtol=1e-12,
                               atol=1e-9)
    np.testing.assert_allclose(m["cash"][:, -1], 1e6 + 12 * 2070.0 - tax[12] - 12 * 2700.0,
                               rtol=1e-12)


def _month1_profit(rep: bool, owner_pay: float) -> tuple[float, float]:
    """docs/model.md step 9 for the P&L case below, month 1: (pretax profit, overtime hours)."""
    f = 0.9 ** (1 / 12)  # legacy lines after one month of a 10%/year decline
    managed, seats, customers = 10 * 10 * 100.0, 100, 10
    cloud = seats * 0.5 * 20.0 * 0.1 * (1 + 0.2)
    legacy_projects, legacy_products, ms_products = 2400.0 * f, 5000.0 * f, 120.0 / 12 * seats
    work = 1.5 * seats + legacy_projects / 120.0  # proactive + project hours
    overtime = min(max(work - 140.0, 0.0), 0.15 * 140.0)
    revenue = managed + cloud + legacy_projects + legacy_products + ms_products
    gross = (managed * (1 - 0.12) - 6500.0 - overtime * HOURLY * 1.5 + cloud
             + (1 - 0.2) * legacy_projects + 0.045 * legacy_products + 0.11 * ms_products)
    employees = 1 + int(rep)
    opex = (5000.0 * rep + owner_pay + 1000.0 + 200.0 * employees + 50.0 * customers
            + 0.02 * revenue)
    profit = gross - opex
    return (profit * 0.9 if profit > 0 else profit), overtime


@pytest.mark.parametrize(("rep", "owner_pay"), [(True, 3000.0), (False, 0.0)])
def test_one_months_profit_line_by_line(runner, rep, owner_pay):
    data = merged(BOOK, simulation={"months": 1},
                  start={"legacy_project_revenue": 2400.0, "legacy_product_revenue": 5000.0},
                  cloud={"adoption": 0.5, "seat_price": 20.0, "commission_rate": 0.1,
                         "attach_uplift": 0.2},
                  tickets={"proactive_hours_per_endpoint": 1.5},
                  projects={"product_spend_per_seat_year": 120.0, "bill_rate_per_hour": 120.0},
                  legacy={"decline_annual": 0.1},
                  sales={"reps": int(rep), "rep_start_month": 1, "rep_cost_per_month": 5000.0,
                         "rep_meetings_per_month": 0.0, **SURE_REP},
                  finance={"overhead_per_month": 1000.0, "overhead_per_employee_month": 200.0,
                           "overhead_per_customer_month": 50.0, "marketing_share": 0.02,
                           "owner_pay_per_month": owner_pay, "project_other_cost_share": 0.2,
                           "product_margin_legacy": 0.045, "product_margin_ms": 0.11})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    profit, overtime = _month1_profit(rep, owner_pay)
    assert overtime == pytest.approx(21.0)  # the stretch is used up: the owner takes the rest
    assert (profit < 0) == rep  # both signs of the bonus-pool rule
    np.testing.assert_allclose(m["pretax_profit"][:, 1], profit, rtol=1e-12)
    np.testing.assert_allclose(m["revenue_cloud"][:, 1], 120.0, rtol=1e-12)
    np.testing.assert_allclose(m["revenue_products"][:, 1], 5000.0 * 0.9 ** (1 / 12) + 1000.0,
                               rtol=1e-12)


def test_overtime_costs_its_premium_and_no_more_than_the_stretch(runner):
    """150 hours of work for 140 contracted: 10 overtime hours at 1.5 x $6,500/140;
    300 hours: the stretch (21 hours) is paid, the rest is the owner's or undone."""
    for proactive, hours in ((1.5, 10.0), (3.0, 21.0), (1.0, 0.0)):
        data = merged(BOOK, simulation={"months": 1},
                      tickets={"proactive_hours_per_endpoint": proactive})
        m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
        expected = (10_000.0 * 0.88 - 6500.0 - hours * HOURLY * 1.5) * 0.9
        np.testing.assert_allclose(m["pretax_profit"][:, 1], expected, rtol=1e-12)
        np.testing.assert_allclose(m["utilization"][:, 1], 100 * proactive / 140.0, rtol=1e-12)


# 150 hours of proactive work a month for a team of 140-hour technicians.
LOADED = merged(BOOK, tickets={"proactive_hours_per_endpoint": 1.5},
                staff={"hire_above": 0.85, "hire_after_months": 2, "hire_lag_months": 2,
                       "layoff_below": 0.55, "layoff_after_months": 3})


@pytest.mark.parametrize(("lag", "techs"), [
    # over in months 1-2: posted in month 2, arrives in 2 + lag; two technicians are idle
    # (150 < 0.55 x 280) for 3 months: one leaves at the start of the next month; again.
    (2, [1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]),
    (0, [1, 1, 1, 2, 2, 2, 1, 1, 2, 2, 2, 1, 1]),  # lag 0: usable next month
    (1, [1, 1, 1, 2, 2, 2, 1, 1, 2, 2, 2, 1, 1]),
    (3, [1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2]),
])
def test_hiring_waits_for_overload_months_and_the_lag_and_idle_months_let_go(runner, lag,
                                                                              techs):
    data = merged(LOADED, staff={"hire_lag_months": lag})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert m["techs"].tolist() == [techs, techs]


def test_a_hire_waits_for_money(runner):
    """No cash, $10,000 of credit, a hire needs 2 x $6,500 of cash plus unused credit.
    Profit (8,800 - 6,500 - 10 overtime hours) x 0.9 = $1,443.21 a month: cash
    reaches $3,000 in month 3, so the hire wanted since month 2 is posted in
    month 3 and arrives in month 5."""
    data = merged(LOADED, start={"cash": 0.0}, finance={"credit_limit": 10_000.0},
                  staff={"hire_cash_months": 2.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    profit = (8800.0 - 6500.0 - 10 * HOURLY * 1.5) * 0.9
    np.testing.assert_allclose(m["cash"][:, 1:4], [[profit, 2 * profit, 3 * profit]] * 2,
                               rtol=1e-12)
    assert m["techs"][:, :7].tolist() == [[1, 1, 1, 1, 1, 2, 2]] * 2


def test_the_money_rule_holds_at_equality(runner):
    """An alignment hire (step 7, cash at the start of the month) for $8,000 a month
    needs 2 months of it: $3,000 of cash and $13,000 of credit are exactly $16,000, so
    it is posted in month 1 and arrives in month 3 (lag 2); $1 less and it waits a
    month (the month's profit comes first)."""
    data = merged(BOOK, start={"cash": 3000.0}, finance={"credit_limit": 13_000.0},
                  staff={"hire_cash_months": 2.0, "hire_lag_months": 2},
                  alignment={"enabled": True, "start_month": 1, "staff_cost_per_month": 8000.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert m["alignment_staff"][:, :5].tolist() == [[0, 0, 0, 1, 1]] * 2
    m, _, _ = run_paths(runner, merged(data, start={"cash": 2999.0}), n_paths=2, seed=1)
    assert m["alignment_staff"][:, :5].tolist() == [[0, 0, 0, 0, 1]] * 2


@pytest.mark.parametrize(("lead_techs", "saving", "owner_share"), [
    (2, 0.25, 0.3),  # one technician, no lead: the owner is asked for every escalation
    (1, 0.25, 0.3),  # a lead from one technician: reactive tickets 25% faster, owner keeps 30%
])
def test_escalations_of_both_ticket_types_go_to_the_owner_until_a_lead_takes_them(
        runner, lead_techs, saving, owner_share):
    """Half the book aligned: reactive and aligned tickets ~ Poisson(100) each, 1 h and
    0.4 h per ticket, 1 h x g with g = 1 - saving once ``T >= escalation_lead_techs``
    (docs/model.md step 2). The month's counts are recovered from ``tickets`` and
    ``ticket_hours``; step 3: E' = 0.2 N_R g + 0.1 x 0.4 N_A, the owner is asked for E'
    below the lead size and for 0.3 E' from it on, and the rest stays the technicians'
    work: utilization = (X - E) / 140 (700 owner hours take every overflow: no backlog)."""
    data = merged(BOOK, start={"customers": 20, "alignment_score": 0.5},
                  tickets={"per_endpoint_reactive": 1.0, "per_endpoint_aligned": 1.0,
                           "hours_reactive": 1.0, "hours_aligned": 0.4,
                           "tiered_desk_saving": saving},
                  staff={"escalation_share": 0.2, "escalation_share_aligned": 0.1,
                         "escalation_lead_techs": lead_techs,
                         "owner_escalation_share_led": owner_share,
                         "owner_hours_per_month": 700.0},
                  alignment={"drift": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=20, seed=4)
    led = 1 >= lead_techs
    g = 1.0 - saving if led else 1.0
    tickets, hours = m["tickets"][:, 1:], m["ticket_hours"][:, 1:]
    reactive = np.rint((hours - 0.4 * tickets) / (1.0 * g - 0.4))
    aligned = tickets - reactive
    np.testing.assert_allclose(hours, reactive * 1.0 * g + aligned * 0.4, rtol=1e-12)
    assert abs(z_score(reactive.ravel(), 100.0)) < 4
    assert abs(z_score(aligned.ravel(), 100.0)) < 4
    escalated = 0.2 * reactive * 1.0 * g + 0.1 * aligned * 0.4
    asked = owner_share * escalated if led else escalated
    np.testing.assert_allclose(m["owner_escalation_hours"][:, 1:], asked, rtol=1e-12)
    np.testing.assert_allclose(m["utilization"][:, 1:], (hours - asked) / 140.0, rtol=1e-12)
    np.testing.assert_allclose(m["unserved_share"][:, 1:], 0.0, atol=0)


def test_sustained_overtime_stops_paying(runner):
    """W = 150 hours for 140 contracted every month, overtime up to 21 hours, fatigue 0.5
    (docs/model.md step 3, model v3): after m months of overtime running an overtime hour
    gets e = 1 / (1 + 0.5 m) of an hour's work done, so the team works V = min(10 / e, 21)
    hours (10, 15, 20, 21, 21, ...) and delivers e V; the owner takes the rest (10 - e V,
    from month 4). Profit (8,800 - 6,500 - V x $46.43 x 1.5) x 0.9."""
    data = merged(LOADED, staff={"hire_above": 10.0, "overtime_fatigue": 0.5})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    e = 1.0 / (1.0 + 0.5 * np.arange(12))
    worked = np.minimum(10.0 / e, 21.0)
    np.testing.assert_allclose(worked[:4], [10.0, 15.0, 20.0, 21.0], rtol=1e-12)
    profit = (8800.0 - 6500.0 - worked * HOURLY * 1.5) * 0.9
    np.testing.assert_allclose(m["pretax_profit"][:, 1:], np.broadcast_to(profit, (2, 12)),
                               rtol=1e-12)
    np.testing.assert_allclose(m["owner_overflow_hours"][:, 1:],
                               np.broadcast_to(10.0 - e * worked, (2, 12)), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(m["unserved_share"][:, 1:], 0.0, atol=0)
    assert m["owner_overflow_hours"][0, 3] == 0 and m["owner_overflow_hours"][0, 4] > 1


def test_projects_are_billed_on_the_hours_delivered(runner):
    """$12,000 of T&M a month at $120 an hour (100 hours, no decline) and 100 hours of
    maintenance for one technician (140 + 21 hours of overtime) and an owner with no hours:
    month 1, 39 hours undone, half of them project hours (s = 100 / 200): $12,000 - 120 x
    0.5 x 39 = $9,660 billed (docs/model.md step 8, model v3). Month 2 carries half the
    undone hours: D = 219.5, 58.5 undone, s = 100 / 219.5."""
    data = merged(BOOK, start={"legacy_project_revenue": 12_000.0},
                  legacy={"decline_annual": 0.0},
                  projects={"bill_rate_per_hour": 120.0},
                  tickets={"proactive_hours_per_endpoint": 1.0},
                  staff={"owner_hours_per_month": 0.0, "escalation_share": 0.0,
                         "backlog_carry": 0.5})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    np.testing.assert_allclose(m["revenue_projects"][:, 1], 9660.0, rtol=1e-12)
    np.testing.assert_allclose(m["revenue_projects"][:, 2], 12_000.0 - 120.0 * 58.5 * 100.0
                               / 219.5, rtol=1e-12)
    np.testing.assert_allclose(m["unserved_share"][:, 1], 39.0 / 200.0, rtol=1e-12)


def test_a_strained_month_is_conceded_at_renewal(runner):
    """150 hours of proactive work for 140 contracted: W = 150 every month, V = 10 hours of
    overtime, nothing undone. Felt failure f = 0 + 1.5 x 10 / 150 = 0.1 (strain_weight
    1.5), remembered over 3 months: z_t = z_(t-1) + (f - z_(t-1)) / 3 (docs/model.md
    step 3). Each client ($1,000 a month) renews once in months 1-12 and pays
    x (1 + 0.06 - 0.4 z_t) from then on (step 5), so the month's change of managed
    revenue is 1,000 (0.06 - 0.4 z_t) times the number renewing: a whole number, ten
    in all."""
    data = merged(BOOK, tickets={"proactive_hours_per_endpoint": 1.5},
                  customers={"price_escalator": 0.06, "renewal_concession": 0.4},
                  churn={"strain_weight": 1.5, "service_memory_months": 3.0})
    m, _, _ = run_paths(runner, data, n_paths=20, seed=7)
    z = [0.0]
    for _ in range(12):
        z.append(z[-1] + (0.1 - z[-1]) / 3.0)
    z = np.array(z)
    np.testing.assert_allclose(m["service_failure"], np.broadcast_to(z, (20, 13)), rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(m["unserved_share"][:, 1:], 0.0, atol=0)
    step = 1000.0 * (0.06 - 0.4 * z[1:])
    renewing = np.diff(m["revenue_managed"][:, 1:], axis=1, prepend=10_000.0) / step
    np.testing.assert_allclose(renewing, np.rint(renewing), atol=1e-9)
    assert np.all(np.rint(renewing) >= 0)
    assert np.all(np.rint(renewing).sum(axis=1) == 10)
    assert np.all(m["customers"] == 10)


def test_a_failing_service_loses_its_referrals(runner):
    """Month 1 (docs/model.md steps 3-4, model v3): W = 150 hours for 140 contracted, 10 of
    overtime, strain_weight 1.5 and one month of memory: z = 1.5 x 10 / 150 = 0.1. A
    meeting becomes a deal with probability 1 x 1 x (1 - 0.3 (1 - exp(-4 x 0.1))) = 0.9011
    (referral_share 0.3, overload_sensitivity 4, no price rise); with no cycle every deal
    signs this month. 40 meetings a month on 400 paths: the signed share within 4 SE."""
    data = merged(BOOK, simulation={"months": 1},
                  tickets={"proactive_hours_per_endpoint": 1.5},
                  sales={"meetings_per_selling_hour": 1.0, "proposal_rate": 1.0,
                         "close_rate": 1.0, "cycle_months": 0.0, "referral_share": 0.3},
                  churn={"strain_weight": 1.5, "service_memory_months": 1.0,
                         "overload_sensitivity": 4.0})
    m, _, _ = run_paths(runner, data, n_paths=400, seed=8)
    np.testing.assert_allclose(m["service_failure"][:, 1], 0.1, rtol=1e-12)
    p = 1.0 - 0.3 * (1.0 - math.exp(-0.4))
    meetings, signed = m["meetings"][:, 1].sum(), m["new_customers"][:, 1].sum()
    assert abs(meetings - 400 * 40) < 4 * math.sqrt(400 * 40)
    assert abs(signed - p * meetings) < 4 * math.sqrt(meetings * p * (1 - p)), signed / meetings
    # the same month without strain: every meeting a deal
    m, _, _ = run_paths(runner, merged(data, churn={"strain_weight": 0.0}), n_paths=20, seed=8)
    np.testing.assert_array_equal(m["new_customers"][:, 1], m["meetings"][:, 1])


def test_meetings_follow_the_reps_linear_ramp(runner):
    """One rep from month 2, 3-month ramp, 300 meetings a month at full speed:
    means 0, 100, 200, 300, 300, ... (Poisson, 200 paths: SE <= 1.3)."""
    data = merged(QUIET, sales={"reps": 1, "rep_start_month": 2, "rep_ramp_months": 3.0,
                                "rep_meetings_per_month": 300.0, "proposal_rate": 0.0,
                                **SURE_REP})
    m, _, _ = run_paths(runner, data, n_paths=200, seed=6)
    expected = [0, 0, 100, 200] + [300] * 9
    assert np.all(m["meetings"][:, :2] == 0)
    for t in range(2, 13):
        assert abs(z_score(m["meetings"][:, t], expected[t])) < 4, t


def test_churn_hazard_by_visibility_and_remembered_failure(runner):
    """Month 1: 2,000 one-seat customers, 700 owner hours for 2,000 hours of
    account care (paid share q = 0.35), no technician: all 1,000 hours of work are
    undone (u = 1, so z = 1 / 2 months of memory). The hazard is
    h0 (1 - 0.5 q) exp(1 x 0.5) with h0 = 1 - 0.8^(1/12)."""
    data = merged(BOOK, start={"customers": 2000, "techs": 0},
                  customers={"seats": 1, "account_hours_per_month": 1.0},
                  tickets={"proactive_hours_per_endpoint": 0.5},
                  staff={"owner_hours_per_month": 700.0},
                  churn={"annual_rate": 0.2, "visibility_reduction": 0.5,
                         "overload_sensitivity": 1.0, "service_memory_months": 2.0},
                  simulation={"months": 1})
    m, _, _ = run_paths(runner, data, n_paths=400, seed=5)
    np.testing.assert_allclose(m["owner_account_hours"][:, 1], 700.0)
    np.testing.assert_allclose(m["service_failure"][:, 1], 0.5)
    h0 = 1 - 0.8 ** (1 / 12)
    h = h0 * (1 - 0.5 * 0.35) * math.exp(0.5)
    assert abs(z_score(m["churned"][:, 1], 2000 * h)) < 4


def test_owners_month_by_hand(runner):
    """Model v3's owner's month (docs/model.md step 3); update with the model.

    One technician (140 h + 21 h of overtime), 200 h of proactive work, no
    tickets (so no escalations): the overflow is 39 h. The owner's hours go to
    management (4 h x 1 direct), then account care (0.5 h x 10 customers), then
    the overflow, and what is left to selling, at most 40 h. The month's felt
    failure is f = min(1, u + strain_weight x 21 / 200) (the overtime hours V = 21
    of W = 200), remembered over 4 months: z = f / 4.
    """
    base = merged(BOOK, tickets={"proactive_hours_per_endpoint": 2.0},
                  customers={"account_hours_per_month": 0.5},
                  staff={"management_hours_per_employee": 4.0}, simulation={"months": 2},
                  churn={"service_memory_months": 4.0})
    cases = [  # owner hours: management, care, overflow taken, selling, unserved
        (200.0, 4.0, 5.0, 39.0, 40.0, 0.0),
        (80.0, 4.0, 5.0, 39.0, 32.0, 0.0),
        (30.0, 4.0, 5.0, 21.0, 0.0, 18.0),
        (6.0, 4.0, 2.0, 0.0, 0.0, 39.0),
    ]
    strains = (0.0, 1.5, 5.0)  # none, some, the most the schema allows
    for (owner, mgmt, care, taken, selling, unserved), strain in itertools.product(cases,
                                                                                   strains):
        data = merged(base, staff={"owner_hours_per_month": owner},
                      churn={"service_memory_months": 4.0, "strain_weight": strain})
        m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
        got = [m[name][0, 1] for name in ("owner_management_hours", "owner_account_hours",
                                          "owner_overflow_hours", "owner_sales_hours")]
        np.testing.assert_allclose(got, [mgmt, care, taken, selling], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(m["unserved_share"][:, 1], unserved / 200.0, atol=1e-15)
        felt = min(1.0, unserved / 200.0 + strain * 21.0 / 200.0)
        np.testing.assert_allclose(m["service_failure"][:, 1], felt / 4.0, rtol=1e-12,
                                   atol=1e-15)
        # half the undone hours come back next month on top of the same 200
        np.testing.assert_allclose(m["utilization"][:, 2], (200.0 + 0.5 * unserved) / 140.0,
                                   rtol=1e-12)


@pytest.mark.parametrize(("techs", "proactive", "debt0", "months"), [
    (1, 2.0, 0.0, 18.0),  # 161 h of 200 served: part of the maintenance skipped
    (0, 2.0, 0.3, 9.0),  # nobody to do it: all of it skipped (the share is capped at 1)
    (1, 1.0, 0.4, 18.0),  # 100 h for 140: nothing skipped, the starting debt is paid off
])
def test_maintenance_debt_builds_from_skipped_maintenance(runner, techs, proactive, debt0,
                                                          months):
    """docs/model.md step 3 (model v3, maintenance debt): no tickets, ``proactive`` hours an
    endpoint on 100 endpoints (K = 100 x proactive), one technician (140 h + 21 h of
    overtime) or none, an owner with no hours. Undone U_t = max(K + 0.5 U_(t-1) - 161, 0)
    (half carried as backlog); the overloaded team skips maintenance first, so the skipped
    share is s_t = min(U_t, K) / K and the debt d_t = d_(t-1) + (s_t - d_(t-1)) /
    maintenance_debt_months, from d_0 = start.maintenance_debt."""
    data = merged(BOOK, start={"techs": techs, "maintenance_debt": debt0},
                  tickets={"proactive_hours_per_endpoint": proactive,
                           "maintenance_debt_months": months},
                  staff={"owner_hours_per_month": 0.0, "escalation_share": 0.0,
                         "hire_after_months": 60})  # (no team hires when it has nobody)
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    maintenance, capacity = 100.0 * proactive, techs * 161.0
    undone, debt = 0.0, [debt0]
    for _ in range(12):
        undone = max(maintenance + 0.5 * undone - capacity, 0.0)
        debt.append(debt[-1] + (min(undone, maintenance) / maintenance - debt[-1]) / months)
    np.testing.assert_allclose(m["maintenance_debt"], np.broadcast_to(debt, (2, 13)),
                               rtol=1e-12, atol=1e-15)
    if debt0 > 0 and techs == 1 and proactive == 1.0:  # paid off geometrically
        np.testing.assert_allclose(debt, debt0 * (1 - 1 / months) ** np.arange(13), rtol=1e-12)


def test_maintenance_debt_raises_the_ticket_rate(runner):
    """docs/model.md step 2 (model v3): 100 endpoints, half aligned (no drift), 1 ticket an
    endpoint a month of each type, a starting maintenance debt of 0.5 with uplift 0.8 and
    a 12-month time constant. Nothing goes undone (an owner with 700 hours takes any
    overflow), so the debt is paid off as d_t = 0.5 (11/12)^t and month t raises
    Poisson(100 (1 + 0.8 d_(t-1))) tickets: 140 in month 1. 300 paths, each month's mean
    within 4 SE; without debt the same months raise 100."""
    data = merged(BOOK, start={"alignment_score": 0.5, "maintenance_debt": 0.5},
                  tickets={"per_endpoint_reactive": 1.0, "per_endpoint_aligned": 1.0,
                           "neglect_ticket_uplift": 0.8, "maintenance_debt_months": 12.0},
                  staff={"owner_hours_per_month": 700.0}, alignment={"drift": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=300, seed=11)
    debt = 0.5 * (11 / 12) ** np.arange(13)
    np.testing.assert_allclose(m["maintenance_debt"], np.broadcast_to(debt, (300, 13)),
                               rtol=1e-12)
    assert np.all(m["unserved_share"] == 0)
    for t in range(1, 13):
        assert abs(z_score(m["tickets"][:, t], 100 * (1 + 0.8 * debt[t - 1]))) < 4, t
    m, _, _ = run_paths(runner, merged(data, start={"maintenance_debt": 0.0}), n_paths=300,
                        seed=11)
    assert np.all(m["maintenance_debt"] == 0)
    assert abs(z_score(m["tickets"][:, 1:].ravel(), 100.0)) < 4


def test_the_default_break_is_sustained_for_six_months(runner):
    """Model v3: a break is 6 months running at or above the threshold, counting month 0,
    reported at the last of them (the whole horizon when it is shorter). The book's MRR
    is $10,000 every month: first passage 5 with 12 months, 3 with 4, never above it."""
    for months, threshold, first in ((12, 10_000.0, 5), (4, 10_000.0, 3), (12, 10_000.5, -1)):
        data = merged(BOOK, simulation={"months": months, "threshold_mrr": threshold})
        m, fp, _ = run_paths(runner, data, n_paths=2, seed=1)
        assert np.all(m["mrr"] == 10_000.0)
        assert fp.tolist() == [first, first], (months, threshold)


# --------------------------------------------------------------------------
# accounting re-build of the shipped configs (engine outputs + per-path parameters)
# --------------------------------------------------------------------------

@pytest.fixture(scope="module", params=CONFIGS, ids=lambda p: p.stem)
def shipped(request):
    from simulator.api import simulate
    from simulator.config import load_config

    return simulate(load_config(request.param), n_paths=150, seed=30, progress=False,
                    keep_paths=True)


def _solvent(res) -> np.ndarray:
    """(paths, months + 1): True in months before the path closes."""
    months = np.arange(res.months + 1)[None, :]
    im = res.insolvency_month[:, None]
    return (im < 0) | (months < im)


def test_shipped_configs_rebuild_pnl_and_cash(shipped):
    """Every month's pretax profit, tax and cash of every path, from docs/model.md's
    step 9 applied to the recorded revenue lines and staff and the path's parameters."""
    res = shipped
    p = {name: res.params[name][:, None] for name in res.params.dtype.names}
    H = res.months
    t = np.arange(1, H + 1)[None, :]
    m = {name: res[name] for name in res.metric_names}
    cur = {name: v[:, 1:] for name, v in m.items()}
    cash_before = m["cash"][:, :-1]
    managed, cloud = cur["revenue_managed"], cur["revenue_cloud"]
    projects, products = cur["revenue_projects"], cur["revenue_products"]
    decline = p["legacy_decline_annual"]
    legacy_products = p["start_legacy_product_revenue"] * (1 - decline) ** (t / 12)
    ms_products = p["projects_product_spend_per_seat_year"] / 12 * cur["seats"]
    techs, staff, managers = cur["techs"], cur["alignment_staff"], cur["managers"]
    # a rep under the firing line is let go rep_review_months after the ramp (model v4)
    end = np.where(p["sales_rep_productivity"] < p["sales_rep_fire_below"],
                   p["sales_rep_start_month"] + np.ceil(p["sales_rep_ramp_months"])
                   + p["sales_rep_review_months"], np.inf)
    reps = np.where((t >= p["sales_rep_start_month"]) & (t < end), p["sales_reps"], 0.0)
    capacity = techs * p["staff_tech_hours_per_month"]
    work = cur["utilization"] * capacity
    # overtime (model v3): (W - K) / e hours worked, at most the stretch, with
    # e = 1 / (1 + fatigue m) after m months of overtime running
    stretch = capacity * p["staff_overtime_max_share"]
    running = np.zeros_like(work)
    for j in range(1, H):
        worked = (cur["work_hours"][:, j - 1] > capacity[:, j - 1]) & (stretch[:, j - 1] > 0)
        running[:, j] = np.where(worked, running[:, j - 1] + 1, 0)
    efficiency = 1.0 / (1.0 + p["staff_overtime_fatigue"] * running)
    overtime = np.where(cur["work_hours"] > capacity,
                        np.minimum((cur["work_hours"] - capacity) / efficiency, stretch), 0.0)
    hourly = p["staff_tech_cost_per_month"] / p["staff_tech_hours_per_month"]
    revenue = managed + cloud + projects + products
    # the standard stack on aligned endpoints: c x endpoints/seat x sum of seats x score. The
    # outputs hold the mean score, not the seat-weighted sum, so the stack is read back as the
    # managed line's residual and bounded: 0 with no client aligned, the whole book's
    # endpoints with every client fully aligned, in between otherwise
    labour = (techs * p["staff_tech_cost_per_month"]
              + overtime * hourly * p["staff_overtime_premium"])
    demand = cur["work_hours"] + cur["owner_escalation_hours"]
    share = np.divide(cur["project_hours"], demand, out=np.zeros_like(demand),
                      where=demand > 0)
    full_stack = (p["finance_standard_stack_cost_per_endpoint"]
                  * p["customers_endpoints_per_seat"] * cur["seats"])
    stack = (managed * (1 - p["finance_tools_share"]) - (1 - share) * labour
             - staff * p["alignment_staff_cost_per_month"] - cur["gross_profit_managed"])
    scale = np.abs(revenue) + 1.0
    alive = _solvent(res)[:, 1:]
    align = cur["alignment_mean"]
    for where, want in ((align == 0.0, 0.0), (align == 1.0, full_stack)):
        err = np.abs(stack - want) / scale
        assert err[alive & where].max(initial=0.0) < 1e-9
    assert np.all((stack >= -1e-9 * scale) & (stack <= full_stack + 1e-9 * scale))
    gross = (managed * (1 - p["finance_tools_share"]) - techs * p["staff_tech_cost_per_month"]
             - overtime * hourly * p["staff_overtime_premium"]
             - staff * p["alignment_staff_cost_per_month"] - stack + cloud
             + (1 - p["finance_project_other_cost_share"]) * projects
             + p["finance_product_margin_legacy"] * legacy_products
             + p["finance_product_margin_ms"] * ms_products)
    employees = techs + staff + managers + reps
    opex = (managers * p["staff_manager_cost_per_month"] + reps * p["sales_rep_cost_per_month"]
            + np.minimum(p["finance_owner_pay_per_month"], np.maximum(cash_before, 0.0))
            + p["finance_overhead_per_month"] + p["finance_overhead_per_employee_month"] * employees
            + p["finance_overhead_per_customer_month"] * cur["customers"]
            + p["finance_marketing_share"] * revenue
            + p["finance_credit_annual_rate"] / 12 * np.maximum(-cash_before, 0.0))
    profit = gross - opex
    profit = np.where(profit > 0, profit * (1 - p["finance_profit_share"]), profit)
    scale = np.abs(revenue) + np.abs(opex) + 1.0
    err = np.abs(profit - cur["pretax_profit"]) / scale
    assert err[alive].max() < 1e-9, np.unravel_index(np.argmax(np.where(alive, err, 0)),
                                                     err.shape)
    # gross profit by line (model v3): the technicians' cost L split by the project share
    # s = P / D of the month's work, D = W + the escalations the owner took (the managed
    # line's formula is checked through the stack's bounds above and the profit)
    np.testing.assert_allclose(cur["work_hours"][capacity > 0], work[capacity > 0],
                               rtol=1e-9, atol=1e-9)
    gp_projects = (1 - p["finance_project_other_cost_share"]) * projects - share * labour
    for got, want in ((cur["gross_profit_projects"], gp_projects),):
        err = np.abs(got - want) / scale
        assert err[alive].max() < 1e-9, np.unravel_index(np.argmax(np.where(alive, err, 0)),
                                                         err.shape)
    # the revenue lines the profit used are the model's
    np.testing.assert_allclose(products[alive], (legacy_products + ms_products)[alive],
                               rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(m["mrr_managed"][:, 1:][alive], managed[alive], rtol=1e-12)
    np.testing.assert_allclose(m["mrr"][_solvent(res)],
                               (m["mrr_managed"] + m["mrr_cloud"])[_solvent(res)], rtol=1e-12)
    # cash: + pretax - tax every month, closed paths included
    np.testing.assert_allclose(m["cash"][:, 1:], cash_before + cur["pretax_profit"]
                               - cur["tax_paid"], rtol=1e-12, atol=1e-6)
    # tax: the rate times the year's positive pretax profit, months 12, 24, ... only
    tax = cur["tax_paid"]
    assert np.all(tax[:, (t[0] % 12) != 0] == 0)
    for year in range(H // 12):
        ytd = m["pretax_profit"][:, 12 * year + 1:12 * year + 13].sum(axis=1)
        np.testing.assert_allclose(tax[:, 12 * year + 11],
                                   res.params["finance_tax_rate"] * np.maximum(ytd, 0.0),
                                   rtol=1e-9, atol=1e-6)
    # insolvency: the first month cash falls below minus the credit limit
    below = m["cash"] < -res.params["finance_credit_limit"][:, None]
    first = np.where(below.any(axis=1), below.argmax(axis=1), -1)
    np.testing.assert_array_equal(res.insolvency_month, first)


def test_shipped_configs_rebuild_the_owners_escalations(shipped):
    """Escalations (model v3, docs/model.md steps 2-3): reactive hours ``h_R g`` a ticket,
    ``g = 1 - tiered_desk_saving`` in months with ``T >= escalation_lead_techs``, else 1;
    ``E' = escalation_share N_R h_R g + escalation_share_aligned N_A h_A``; the owner is
    asked for ``E'`` below the lead size and ``owner_escalation_share_led E'`` from it
    on, and pays at most his hours. Reactive and aligned counts are recovered from
    ``tickets`` and ``ticket_hours`` in the months whose two hours a ticket differ."""
    res = shipped
    p = {name: res.params[name][:, None] for name in res.params.dtype.names}
    techs = res["techs"][:, 1:]
    led = techs >= p["staff_escalation_lead_techs"]
    hr = p["tickets_hours_reactive"] * np.where(led, 1.0 - p["tickets_tiered_desk_saving"],
                                                1.0)
    ha = p["tickets_hours_aligned"] * np.ones_like(hr)
    alive = _solvent(res)[:, 1:]
    ok = alive & (np.abs(hr - ha) > 0.05)
    assert ok.sum() >= 0.5 * alive.sum()
    n, x = res["tickets"][:, 1:][ok], res["ticket_hours"][:, 1:][ok]
    hr, ha = hr[ok], ha[ok]
    reactive = np.rint((x - ha * n) / (hr - ha))
    aligned = n - reactive
    # the recovered counts give the recorded hours back: the tiered saving applies
    np.testing.assert_allclose(reactive * hr + aligned * ha, x, rtol=1e-9, atol=1e-9)
    escalated = (np.broadcast_to(p["staff_escalation_share"], ok.shape)[ok] * reactive * hr
                 + np.broadcast_to(p["staff_escalation_share_aligned"], ok.shape)[ok]
                 * aligned * ha)
    asked = np.where(led[ok], np.broadcast_to(p["staff_owner_escalation_share_led"],
                                              ok.shape)[ok] * escalated, escalated)
    owner = np.broadcast_to(p["staff_owner_hours_per_month"], ok.shape)[ok]
    np.testing.assert_allclose(res["owner_escalation_hours"][:, 1:][ok],
                               np.minimum(asked, owner), rtol=1e-9, atol=1e-9)
