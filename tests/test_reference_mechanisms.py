"""More independent oracles: mechanisms of docs/model.md the oracles of
tests/test_oracles.py leave unexercised, computed here by hand (issue 30).

Written for the survivors of a sampled mutation run of the reference model
(``tests/mutation.py reference --sample 60``, docs/testing.md): each case below
is a few lines of arithmetic from docs/model.md, not from the code, and runs
on both runners (the engine's twin of each mechanism is exercised by the same
whole-month case), except the reference's own table sampler, whose engine twin
draws its uniform inside:

- technicians quit at ``min(1, q0 (1 + turnover_overload max(u - 1, 0)))`` a month;
- maintenance hours and the ticket rates by endpoint, alignment and ticket type;
- service managers by ``techs_per_manager`` and the first-manager rule;
- a client signed while the alignment program runs starts at its onboarding score;
- the owner goes unpaid before the bank (``min(owner_pay, max(cash, 0))``);
- a rep started by the margin trigger rule, ramped and let go from that month;
- the last technician is never let go;
- seats drawn from a table by linear interpolation, rounded, at least 1.

Deterministic cases are exact up to float rounding (``rtol = 1e-12``);
stochastic ones compare a sum or mean with its expectation within 4 standard
errors (false alarm 6e-5 each; seeds fixed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_oracles import BOOK
from test_reference import merged, run_paths, z_score

from simulator.model.reference import (
    _draw_seats,
    _sample_table,
    first_passage,
)

# 20 technicians, 4,200 hours of maintenance a month (150% of their 2,800 hours), no
# overtime, nothing carried, nobody hired or let go: utilization 4,200 / (140 T).
TEAM = merged(BOOK, start={"techs": 20}, simulation={"months": 6},
              tickets={"proactive_hours_per_endpoint": 42.0},
              staff={"tech_turnover_annual": 0.2, "turnover_overload": 1.0,
                     "overtime_max_share": 0.0, "backlog_carry": 0.0, "hire_above": 10.0,
                     "layoff_below": 0.0, "owner_hours_per_month": 0.0})


def test_technicians_quit_faster_when_overloaded(runner):
    """docs/model.md step 1: quits ~ Binomial(T, q) with q = min(1, q0 (1 + max(u_(t-1) -
    1, 0))), q0 = 1 - 0.8^(1/12), u_0 = 0. Month 1 at q0; months 2-6 at the recorded
    utilization of the month before (T_(t-1) technicians at the month's start). The quits
    summed over 200 paths within 4 SE of the sum of T q."""
    m, _, _ = run_paths(runner, TEAM, n_paths=200, seed=3)
    q0 = 1.0 - 0.8 ** (1.0 / 12.0)
    np.testing.assert_allclose(m["utilization"][:, 1:], 4200.0 / (140.0 * m["techs"][:, 1:]),
                               rtol=1e-12)
    np.testing.assert_array_equal(m["techs"][:, 1:], 20 - np.cumsum(m["tech_quits"][:, 1:], 1))
    first = m["tech_quits"][:, 1]
    assert abs(first.sum() - 200 * 20 * q0) < 4 * math.sqrt(200 * 20 * q0 * (1 - q0))
    q = np.minimum(1.0, q0 * (1.0 + np.maximum(m["utilization"][:, 1:-1] - 1.0, 0.0)))
    start = m["techs"][:, 1:-1]
    quits = m["tech_quits"][:, 2:]
    assert q.min() >= 1.5 * q0 - 1e-15  # every later month overloaded by half or more
    assert abs(quits.sum() - (start * q).sum()) < 4 * math.sqrt((start * q * (1 - q)).sum())
    # an overload response large enough to take q over 1: everyone leaves in month 2
    m, _, _ = run_paths(runner, merged(TEAM, staff={"turnover_overload": 100.0,
                                                    "tech_turnover_annual": 0.5},
                                       simulation={"months": 2}), n_paths=20, seed=3)
    assert np.all(m["techs"][:, 2] == 0)
    np.testing.assert_array_equal(m["tech_quits"][:, 2], m["techs"][:, 1])
    # no turnover: nobody quits however overloaded
    m, _, _ = run_paths(runner, merged(TEAM, staff={"tech_turnover_annual": 0.0}),
                        n_paths=5, seed=3)
    assert np.all(m["techs"] == 20) and np.all(m["tech_quits"] == 0)


def test_maintenance_hours_by_endpoint_and_alignment(runner):
    """docs/model.md step 2: K = sum_i e_i ((1 - a_i) 0.4 + a_i 0.1) with 1.5 endpoints a
    seat on 100 seats at alignment 0.25 (no drift): 150 (0.75 x 0.4 + 0.25 x 0.1) = 48.75
    hours, the month's whole work (no tickets)."""
    data = merged(BOOK, start={"alignment_score": 0.25},
                  customers={"endpoints_per_seat": 1.5}, alignment={"drift": 0.0},
                  tickets={"proactive_hours_per_endpoint": 0.4, "proactive_hours_aligned": 0.1})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=2)
    np.testing.assert_allclose(m["work_hours"][:, 1:], 48.75, rtol=1e-12)
    np.testing.assert_allclose(m["utilization"][:, 1:], 48.75 / 140.0, rtol=1e-12)
    np.testing.assert_allclose(m["alignment_mean"], 0.25, rtol=1e-12)
    assert np.all(m["owner_overflow_hours"] == 0) and np.all(m["unserved_share"] == 0)


def test_ticket_rates_by_endpoint_alignment_and_type(runner):
    """docs/model.md step 2: N_R ~ Poisson(2 x 150 x 0.75) = Poisson(225) reactive and
    N_A ~ Poisson(0.5 x 150 x 0.25) = Poisson(18.75) aligned tickets a month (1.5
    endpoints a seat, 100 seats at alignment 0.25, no drift), 1 h and 0.4 h each (no
    lead: g = 1). Counts recovered from ``tickets`` and ``ticket_hours``; 40 paths x 12
    months, each mean within 4 SE. Nothing escalated and nothing undone: W = X."""
    data = merged(BOOK, start={"alignment_score": 0.25},
                  customers={"endpoints_per_seat": 1.5}, alignment={"drift": 0.0},
                  tickets={"per_endpoint_reactive": 2.0, "per_endpoint_aligned": 0.5,
                           "hours_reactive": 1.0, "hours_aligned": 0.4},
                  staff={"escalation_share": 0.0, "escalation_share_aligned": 0.0,
                         "escalation_lead_techs": 5, "owner_hours_per_month": 700.0})
    m, _, _ = run_paths(runner, data, n_paths=40, seed=9)
    tickets, hours = m["tickets"][:, 1:], m["ticket_hours"][:, 1:]
    reactive = np.rint((hours - 0.4 * tickets) / 0.6)
    aligned = tickets - reactive
    np.testing.assert_allclose(hours, reactive + 0.4 * aligned, rtol=1e-12)
    assert abs(z_score(reactive.ravel(), 225.0)) < 4
    assert abs(z_score(aligned.ravel(), 18.75)) < 4
    np.testing.assert_allclose(m["work_hours"][:, 1:], hours, rtol=1e-12)
    np.testing.assert_allclose(m["unserved_share"][:, 1:], 0.0, atol=0)


@pytest.mark.parametrize(("techs", "span", "first_at", "managers"), [
    (11, 4.0, 0, [0, 0, 0, 1, 2, 2, 2]),  # floor(11 / 4) = 2, one hire a month, lag 2
    (3, 8.0, 3, [0, 0, 0, 1, 1, 1, 1]),  # under a span, the first at 3 technicians
    (3, 8.0, 4, [0] * 7),  # not yet 4 technicians: none
    (3, 8.0, 1, [0, 0, 0, 1, 1, 1, 1]),  # the first from one technician
    (3, 8.0, 0, [0] * 7),  # no first-manager rule: floor(3 / 8) = 0
])
def test_service_managers_by_span_and_the_first_manager_rule(runner, techs, span, first_at,
                                                             managers):
    """docs/model.md step 10 and the trigger rules: managers are posted (one a month, lag
    2) while G plus posted managers is below floor((T + P) / techs_per_manager), or below
    1 once T + P reaches ``first_manager_at_techs`` (> 0)."""
    data = merged(BOOK, simulation={"months": 6}, start={"techs": techs},
                  staff={"techs_per_manager": span, "first_manager_at_techs": first_at,
                         "hire_lag_months": 2})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert m["managers"].tolist() == [managers] * 2
    assert np.all(m["techs"] == techs)


@pytest.mark.parametrize(("enabled", "start"), [(True, 1), (True, 5), (False, 1)])
def test_clients_signed_while_the_program_runs_start_at_the_onboarding_score(
        runner, enabled, start):
    """docs/model.md step 6: a client signed in a month with the program running
    (enabled, ``t >= start_month``) starts at ``onboarding_score`` (0.4), others at 0.
    No alignment staff (the money rule never allows one: 60 months of $50,000), so
    nobody is covered, and no drift: the book's mean score is 0.4 x (clients signed
    from the start month) / (clients). Every meeting signs the same month, nobody
    leaves."""
    data = merged(BOOK, sales={"meetings_per_selling_hour": 0.25, "proposal_rate": 1.0,
                               "close_rate": 1.0, "cycle_months": 0.0},
                  start={"alignment_score": 0.0, "cash": 0.0},
                  alignment={"enabled": enabled, "start_month": start,
                             "onboarding_score": 0.4, "drift": 0.0, "rate": 0.2,
                             "staff_cost_per_month": 50_000.0},
                  staff={"hire_cash_months": 60.0})
    m, _, _ = run_paths(runner, data, n_paths=4, seed=12)
    assert np.all(m["alignment_staff"] == 0)
    new = m["new_customers"].copy()
    if enabled:
        new[:, :start] = 0
    else:
        new[:] = 0
    np.testing.assert_allclose(m["customers"][:, 1:], 10 + np.cumsum(m["new_customers"], 1)[:, 1:])
    np.testing.assert_allclose(m["alignment_mean"][:, 1:],
                               0.4 * np.cumsum(new, 1)[:, 1:] / m["customers"][:, 1:],
                               rtol=1e-12)
    assert m["new_customers"][:, 1:].sum() > 100  # ~10 a month


@pytest.mark.parametrize(("cash", "paid"), [(-5000.0, 0.0), (0.0, 0.0), (0.5, 0.5),
                                            (1000.0, 1000.0), (2299.5, 2299.5), (1e6, 3000.0)])
def test_the_owner_goes_unpaid_before_the_bank(runner, cash, paid):
    """docs/model.md step 9: the owner is paid min(3,000, max(cash, 0)) of the cash at the
    start of the month; interest 10% / 12 on the credit drawn. Month 1: 8,800 - 6,500
    - pay - interest, less the 10% bonus pool when positive (also on a profit of $0.50)."""
    data = merged(BOOK, simulation={"months": 1}, start={"cash": cash},
                  finance={"owner_pay_per_month": 3000.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    profit = 8800.0 - 6500.0 - paid - 0.10 / 12.0 * max(-cash, 0.0)
    profit = profit * 0.9 if profit > 0 else profit
    np.testing.assert_allclose(m["pretax_profit"][:, 1], profit, rtol=1e-12)
    np.testing.assert_allclose(m["cash"][:, 1], cash + profit, rtol=1e-12)


@pytest.mark.parametrize(("multiple", "earliest", "paid_months"), [
    (2.0, 1, range(2, 7)),  # fired in month 1: starts in 2, let go 2 + 3 + 2 = 7
    (2.0, 4, range(4, 9)),  # never before its start month: 4, let go in 9
    (3.0, 1, range(0)),  # $2,300 of gross profit never covers 3 x $1,000
    (0.0, 3, range(3, 8)),  # no trigger rule: the start month alone
    (0.0, 3, range(3, 13)),  # booking exactly the firing line: kept
])
def test_a_rep_started_by_the_margin_rule_is_let_go_from_that_start(runner, multiple, earliest,
                                                                   paid_months):
    """docs/model.md trigger rules and model v4: the reps start the month after a month
    whose gross profit (8,800 - 6,500 = $2,300) covers ``multiple`` x their $1,000 cost,
    never before ``rep_start_month``; a rep under the firing line (washout share 1) is
    let go ceil(3) (the ramp) + 2 (review) months after that start. Months paid: $1,300
    less 10%; others $2,300 less 10%."""
    kept = len(paid_months) == 10
    data = merged(BOOK, sales={"reps": 1, "rep_start_month": earliest,
                               "rep_hire_margin_multiple": multiple,
                               "rep_cost_per_month": 1000.0, "rep_meetings_per_month": 0.0,
                               "rep_ramp_months": 3.0, "rep_washout_share": 0.0 if kept else 1.0,
                               "rep_productivity": 0.5, "rep_fire_below": 0.5,
                               "rep_review_months": 2})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    profit = np.array([0.0] + [2070.0] * 12)
    profit[list(paid_months)] = 1170.0
    np.testing.assert_allclose(m["pretax_profit"], np.broadcast_to(profit, (2, 13)), rtol=1e-12)


@pytest.mark.parametrize(("start", "ramp"), [(2, 2.0), (1, 0.0)])
def test_a_triggered_reps_ramp_counts_from_the_month_it_starts(runner, start, ramp):
    """docs/model.md step 4: rep meetings 300 x min(1, (t - start + 1) / ramp) from the
    start (the month after the trigger fires in month 1, or ``rep_start_month`` without a
    rule), 300 from the start with no ramp; 150 paths, each month's mean within 4 SE."""
    multiple = 2.0 if start == 2 else 0.0
    data = merged(BOOK, simulation={"months": 5},
                  sales={"reps": 1, "rep_start_month": 1, "rep_hire_margin_multiple": multiple,
                         "rep_cost_per_month": 1000.0, "rep_meetings_per_month": 300.0,
                         "rep_ramp_months": ramp, "rep_washout_share": 0.0,
                         "rep_productivity": 1.0, "proposal_rate": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=150, seed=13)
    for t in range(1, 6):
        if t < start:
            assert np.all(m["meetings"][:, t] == 0)
            continue
        expected = 300.0 * (min(1.0, (t - start + 1) / ramp) if ramp > 0 else 1.0)
        assert abs(z_score(m["meetings"][:, t], expected)) < 4, t


@pytest.mark.parametrize(("techs", "after"), [(1, [1] * 13), (2, [2, 2] + [1] * 11),
                                              (3, [3, 3, 2] + [1] * 10)])
def test_an_idle_team_lets_one_go_a_month_but_never_the_last(runner, techs, after):
    """docs/model.md step 10: no work at all, idle below 90% from the first month, one
    idle month enough: one technician leaves at the start of the next month while
    ``T > 1``; the count of idle months starts again after each."""
    data = merged(BOOK, start={"techs": techs},
                  staff={"layoff_below": 0.9, "layoff_after_months": 1})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert m["techs"].tolist() == [after] * 2
    assert np.all(m["service_failure"] == 0)  # no work: nothing strained, nothing undone


def test_seats_are_drawn_from_the_table_and_rounded(runner):
    """docs/model.md "Two kinds of randomness": a customer's seats are the table's
    inverse CDF at a uniform, rounded to the nearest integer (and at least 1). Seats
    ~ U(1, 4): 1, 2, 3, 4 with probabilities 1/6, 1/3, 1/3, 1/6, mean 2.5 and variance
    11/12; 200 customers x 40 paths within 4 SE."""
    data = merged(BOOK, start={"customers": 200},
                  customers={"seats": {"dist": "uniform", "low": 1.0, "high": 4.0}},
                  simulation={"months": 1})
    m, _, _ = run_paths(runner, data, n_paths=40, seed=14)
    se = math.sqrt(11.0 / 12.0 / (200 * 40))
    assert abs(m["seats"][:, 0].sum() / (200 * 40) - 2.5) < 4 * se


def test_table_sampling_interpolates_linearly():
    """The reference's inverse-CDF sampler: position u (n - 1) in a table of n values,
    linear interpolation between neighbours, the last value at u = 1 (docs/model.md)."""
    table = np.array([0.0, 10.0, 30.0, 60.0])
    for u, want in ((0.0, 0.0), (0.5, 20.0), (0.9, 51.0), (1 / 3, 10.0), (0.99, 59.1),
                    (1.0, 60.0)):
        assert _sample_table(table, u) == pytest.approx(want, rel=1e-12, abs=1e-12), u

    class Fixed:
        def __init__(self, u):
            self.u = u

        def random(self):
            return self.u

    for u, seats in ((0.0, 1), (0.01, 1), (0.2, 6), (0.5, 20), (0.9, 51)):
        assert _draw_seats(Fixed(u), table) == seats, u


def test_a_price_rise_closes_fewer_prospects(runner):
    """docs/model.md step 4 (model v3): a meeting becomes a deal with probability
    min(1, 1 x 1 x (1 + 0.1)^-2) = 0.8264 (no referrals lost: nothing fails); with no
    cycle every deal signs this month. 10 meetings a month on 200 paths x 3 months: the
    signed share within 4 SE; a price cut of 10% closes every meeting (capped at 1)."""
    data = merged(BOOK, simulation={"months": 3},
                  customers={"price_rise": 0.1},
                  sales={"meetings_per_selling_hour": 0.25, "proposal_rate": 1.0,
                         "close_rate": 1.0, "cycle_months": 0.0, "price_close_response": 2.0,
                         "referral_share": 0.3},
                  churn={"price_rise_response": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=200, seed=15)
    p = 1.1 ** -2.0
    meetings, signed = m["meetings"][:, 1:].sum(), m["new_customers"][:, 1:].sum()
    assert abs(signed - p * meetings) < 4 * math.sqrt(meetings * p * (1 - p)), signed / meetings
    m, _, _ = run_paths(runner, merged(data, customers={"price_rise": -0.1}), n_paths=10,
                        seed=15)
    np.testing.assert_array_equal(m["new_customers"], m["meetings"])


def test_renewal_churn_takes_every_renewing_client_when_the_hazard_is_capped(runner):
    """docs/model.md step 5: h = min(1, h0 (1 - 0) exp(4 x 1)) = 1 with h0 = 1 - 0.5^(1/12)
    and z = 1 (no technician, no owner hours: everything undone, one month of memory);
    in renewal mode a renewing client leaves with probability 1 - (1 - h)^12 = 1, the
    others stay: the book shrinks by the clients renewing each month and is empty after
    12 months."""
    data = merged(BOOK, start={"techs": 0},
                  tickets={"proactive_hours_per_endpoint": 1.0},
                  staff={"owner_hours_per_month": 0.0, "hire_after_months": 60},
                  churn={"mode": "renewal", "annual_rate": 0.5, "overload_sensitivity": 4.0,
                         "service_memory_months": 1.0, "visibility_reduction": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=10, seed=16)
    np.testing.assert_allclose(m["service_failure"][:, 1:], 1.0)
    np.testing.assert_array_equal(m["customers"][:, 1:], 10 - np.cumsum(m["churned"][:, 1:], 1))
    assert np.all(m["customers"][:, 12] == 0)
    assert np.all(m["churned"][:, 1:].max(axis=1) < 10)  # not all at once: at renewal


@pytest.mark.parametrize("proactive", [1.0, 1.3])
def test_gross_profit_by_line_splits_the_technicians_by_hours(runner, proactive):
    """docs/model.md step 9 (model v3): $2,400 of T&M a month at $120 an hour (P = 20 h,
    no decline) and K = 100 x ``proactive`` hours of maintenance: s = P / D. Labour L =
    $6,500 + V x 6,500 / 140 x 1.5 (V = max(D - 140, 0) overtime hours); managed gross
    profit 10,000 x 0.88 - (1 - s) L, projects (1 - 0.2) x 2,400 - s L."""
    data = merged(BOOK, simulation={"months": 2},
                  start={"legacy_project_revenue": 2400.0}, legacy={"decline_annual": 0.0},
                  projects={"bill_rate_per_hour": 120.0},
                  tickets={"proactive_hours_per_endpoint": proactive},
                  finance={"project_other_cost_share": 0.2})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    demand = 100.0 * proactive + 20.0
    share = 20.0 / demand
    labour = 6500.0 + max(demand - 140.0, 0.0) * 6500.0 / 140.0 * 1.5
    np.testing.assert_allclose(m["gross_profit_managed"][:, 1:], 8800.0 - (1 - share) * labour,
                               rtol=1e-12)
    np.testing.assert_allclose(m["gross_profit_projects"][:, 1:], 1920.0 - share * labour,
                               rtol=1e-12)
    np.testing.assert_allclose(m["project_hours"][:, 1:], 20.0, rtol=1e-12)


@pytest.mark.parametrize(("rate", "drift", "score0"), [(0.2, 0.05, 0.0), (0.0, 0.05, 0.5)])
def test_the_alignment_staffs_points_decide_the_clients_covered(runner, rate, drift, score0):
    """docs/model.md step 7 (model v4): 10 clients, 5 a staff member: target 2, one hire a
    month (lag 1), so A = 0, 1, 2, 2, ... in months 1, 2, 3, ...; A staff cover the
    floor(A x 0.9 / rate) longest-standing clients (all when rate = 0), whose score rises
    by ``rate`` (capped at 1), the others drift down by ``drift`` (floored at 0). Their
    cost ($10,000 each) comes out of managed gross profit: 8,800 - 6,500 - 10,000 A,
    and each is an employee ($100 a month of overhead)."""
    data = merged(BOOK, start={"alignment_score": score0},
                  alignment={"enabled": True, "start_month": 1, "clients_per_staff": 5.0,
                             "staff_points_per_month": 0.9, "rate": rate, "drift": drift,
                             "staff_cost_per_month": 10_000.0, "start_clients": 0},
                  staff={"hire_lag_months": 0, "hire_cash_months": 1.0},
                  finance={"standard_stack_cost_per_endpoint": 0.0,
                           "overhead_per_employee_month": 100.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    staff = np.array([0, 0, 1] + [2] * 10)
    assert m["alignment_staff"].tolist() == [staff.tolist()] * 2
    scores, mean = [score0] * 10, [score0]
    for t in range(1, 13):
        covered = 10 if rate == 0 else min(10, int(staff[t] * 0.9 / rate + 1e-9))
        scores = [min(1.0, a + rate) if k < covered else max(0.0, a - drift)
                  for k, a in enumerate(scores)]
        mean.append(sum(scores) / 10)
    np.testing.assert_allclose(m["alignment_mean"], np.broadcast_to(mean, (2, 13)), rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(m["gross_profit_managed"][:, 1:],
                               np.broadcast_to(2300.0 - 10_000.0 * staff[1:], (2, 12)),
                               rtol=1e-12)
    # each is an employee: $100 of overhead, as the technician
    profit = 2300.0 - 10_000.0 * staff[1:] - 100.0 * (1 + staff[1:])
    np.testing.assert_allclose(m["pretax_profit"][:, 1:],
                               np.broadcast_to(np.where(profit > 0, 0.9 * profit, profit),
                                               (2, 12)), rtol=1e-12)


def test_service_managers_are_employees_on_the_payroll(runner):
    """docs/model.md step 9: two service managers from the start (``start.managers``) at
    $5,000 each and $200 of overhead for each of the 3 employees: month 1's profit is
    8,800 - 6,500 - 10,000 - 600 = -8,300 (a loss: no bonus pool)."""
    data = merged(BOOK, simulation={"months": 1}, start={"managers": 2},
                  staff={"manager_cost_per_month": 5000.0},
                  finance={"overhead_per_employee_month": 200.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    np.testing.assert_allclose(m["pretax_profit"][:, 1], -8300.0, rtol=1e-12)
    assert np.all(m["managers"][:, 1] == 2)


def test_renewals_concede_the_remembered_failure(runner):
    """docs/model.md steps 3 and 5: no technician and no owner hours, so all the work is
    undone (u = 1) and z_t = 1 - 0.5^t (two months of memory); nobody churns. A client
    renewing in month t pays x (1 + 0.06 - 0.5 z_t) (0.81 in month 1, below 1): the
    month's change of managed revenue is 1,000 (0.06 - 0.5 z_t) times the number
    renewing, a whole number, ten in all."""
    data = merged(BOOK, start={"techs": 0},
                  tickets={"proactive_hours_per_endpoint": 1.0},
                  customers={"price_escalator": 0.06, "renewal_concession": 0.5},
                  staff={"owner_hours_per_month": 0.0, "hire_after_months": 60},
                  churn={"service_memory_months": 2.0})
    m, _, _ = run_paths(runner, data, n_paths=10, seed=17)
    z = 1.0 - 0.5 ** np.arange(13)
    np.testing.assert_allclose(m["service_failure"], np.broadcast_to(z, (10, 13)), rtol=1e-12)
    step = 1000.0 * (0.06 - 0.5 * z[1:])
    renewing = np.diff(m["revenue_managed"][:, 1:], axis=1, prepend=10_000.0) / step
    np.testing.assert_allclose(renewing, np.rint(renewing), atol=1e-9)
    assert np.all(np.rint(renewing) >= 0) and np.all(np.rint(renewing).sum(axis=1) == 10)
    assert np.all(m["customers"] == 10)


@pytest.mark.parametrize("owner", [45.0, 200.0])
def test_the_owners_hours_add_up(runner, owner):
    """docs/model.md step 3 as an identity on every month of 30 paths: reactive tickets
    ~ Poisson(100) of 1 h, 30% escalated to the owner (no lead), 80 h of maintenance,
    4 h of management (one technician) and 5 h of account care, 140 h + 21 h of
    overtime: the owner's escalations, management, care and overflow come in that order
    out of his hours, and his selling hours are what is left, at most 40; the overflow
    F = max(W - 161, 0) is his or undone (u W = F - F_o)."""
    data = merged(BOOK, simulation={"months": 6},
                  tickets={"per_endpoint_reactive": 1.0, "hours_reactive": 1.0,
                           "proactive_hours_per_endpoint": 0.8},
                  customers={"account_hours_per_month": 0.5},
                  staff={"owner_hours_per_month": owner, "escalation_share": 0.3,
                         "escalation_lead_techs": 5, "management_hours_per_employee": 4.0,
                         "backlog_carry": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=30, seed=18)
    cur = {name: m[name][:, 1:] for name in ("owner_escalation_hours", "owner_management_hours",
                                             "owner_account_hours", "owner_overflow_hours",
                                             "owner_sales_hours", "work_hours", "ticket_hours",
                                             "unserved_share")}
    escalated = np.minimum(0.3 * cur["ticket_hours"], owner)
    np.testing.assert_allclose(cur["owner_escalation_hours"], escalated, rtol=1e-12)
    rest = owner - escalated
    management = np.minimum(4.0, rest)
    np.testing.assert_allclose(cur["owner_management_hours"], management, rtol=1e-12)
    rest -= management
    care = np.minimum(5.0, rest)
    np.testing.assert_allclose(cur["owner_account_hours"], care, rtol=1e-12, atol=1e-12)
    rest -= care
    work = cur["ticket_hours"] + 80.0 - escalated
    np.testing.assert_allclose(cur["work_hours"], work, rtol=1e-12)
    overflow = np.maximum(work - 161.0, 0.0)
    taken = np.minimum(overflow, rest)
    np.testing.assert_allclose(cur["owner_overflow_hours"], taken, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cur["unserved_share"] * work, overflow - taken, rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(cur["owner_sales_hours"], np.minimum(rest - taken, 40.0),
                               rtol=1e-12, atol=1e-12)
    assert (overflow > 0).any() and (overflow == 0).any()
    assert ((overflow - taken) > 0).any() == (owner == 45.0)


@pytest.mark.parametrize(("hire_above", "layoff_below", "techs"), [
    (1.0, 0.0, [1] * 7),  # W / (T h) = 1 exactly: not above the line, nobody hired
    (0.99, 0.0, [1, 1, 1, 2, 2, 2, 2]),  # above it: hired after 1 month, lag 2
    (10.0, 0.5, [2] * 7),  # two technicians: W = 100 = 0.5 x 2 x 100, not below the line
])
def test_the_hiring_and_letting_go_lines_are_strict(runner, hire_above, layoff_below, techs):
    """docs/model.md step 10: overloaded if W / ((T + P) h) > hire_above, idle if W <
    layoff_below T h: 100 hours of maintenance for 100-hour technicians."""
    data = merged(BOOK, simulation={"months": 6}, start={"techs": techs[0]},
                  tickets={"proactive_hours_per_endpoint": 1.0},
                  staff={"tech_hours_per_month": 100.0, "hire_above": hire_above,
                         "hire_after_months": 1, "hire_lag_months": 2,
                         "layoff_below": layoff_below, "layoff_after_months": 1})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert m["techs"].tolist() == [techs] * 2


def test_first_passage_counts_a_run_of_months_from_month_0():
    """docs/model.md: the first month t >= 0 at which MRR has been at or above the
    threshold for ``sustain`` consecutive months, the last of them; -1 if never."""
    mrr = np.array([5.0, 10.0, 10.0, 9.0, 10.0, 12.0, 10.0, 10.0])
    assert first_passage(mrr, 10.0, 1) == 1
    assert first_passage(mrr, 10.0, 2) == 2
    assert first_passage(mrr, 10.0, 3) == 6
    assert first_passage(mrr, 10.0, 4) == 7
    assert first_passage(mrr, 10.0, 5) == -1
    assert first_passage(mrr, 12.5, 1) == -1
    assert first_passage(np.array([10.0, 10.0]), 10.0, 2) == 1


def test_the_felt_failure_is_capped_at_one(runner):
    """docs/model.md step 3: f = min(1, u + strain_weight V / W). One technician (140 h)
    may work 50% overtime: W = 210 hours of maintenance, V = 70, nothing undone, so
    5 x 70 / 210 = 5/3 is felt as 1; with one month of memory z = 1. At strain 1.5 it is
    0.5."""
    data = merged(BOOK, simulation={"months": 2},
                  tickets={"proactive_hours_per_endpoint": 2.1},
                  staff={"overtime_max_share": 0.5},
                  churn={"strain_weight": 5.0, "service_memory_months": 1.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    np.testing.assert_allclose(m["unserved_share"][:, 1:], 0.0, atol=0)
    np.testing.assert_allclose(m["service_failure"][:, 1:], 1.0, rtol=1e-12)
    m, _, _ = run_paths(runner, merged(data, churn={"strain_weight": 1.5}), n_paths=2, seed=1)
    np.testing.assert_allclose(m["service_failure"][:, 1:], 0.5, rtol=1e-12)


def test_a_years_profit_under_a_dollar_is_taxed(runner):
    """docs/model.md step 9: in month 12 ``tax_rate`` times the year's pretax profit when
    positive, however small. An owner paid $2,299.95 leaves 8,800 - 6,500 - 2,299.95 =
    $0.05 a month, $0.045 after the bonus pool: 12 x 0.045 = $0.54 taxed at 25%."""
    data = merged(BOOK, finance={"owner_pay_per_month": 2299.95, "tax_rate": 0.25})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    np.testing.assert_allclose(m["pretax_profit"][:, 1:], 0.045, rtol=1e-6)
    year = m["pretax_profit"][:, 1:13].sum(axis=1)
    np.testing.assert_allclose(m["tax_paid"][:, 12], 0.25 * year, rtol=1e-12)
    assert np.all(m["tax_paid"][:, 12] > 0.13) and np.all(m["tax_paid"][:, :12] == 0)
