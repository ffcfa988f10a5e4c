"""More independent oracles: docs/model.md's mechanisms by hand, on both runners.

Written for the mutants of the engine's mechanisms (``simulator/engine/_mechanisms.py``
and ``_kernel.py``) that tests/test_oracles.py let through (issue 30,
docs/testing.md "Engine group, sampled"): each case is a small business with
nothing random left, whose months follow from docs/model.md in a few lines of
arithmetic, run on the reference and on the engine (the ``runner`` fixture, as in
tests/test_oracles.py). Deterministic cases are exact up to float rounding
(``rtol = 1e-12``).

- insolvency closes the business in the month cash falls below the credit line
  (step 9): that month's MRR, revenue, customers and staff are 0, its loss and
  cash stay, later months are 0 with cash held at the deficit;
- the alignment staff's speed (step 7, model v4): ``floor(A x points / rate)``
  clients covered a month, in signing order;
- the plan's trigger rules (issue 25): the reps start the month after a month
  whose gross profit covers ``k`` times their cost, the alignment program the
  month after the book reaches ``N`` clients, never before their start months;
- (seed 3) each mechanism against its formula at its edges, called on each twin
  (``CONTRACTS``: clamps, thresholds at equality, the cases a rule leaves out), and the
  same edges reached through runs: a strain felt past 1, a renewal that concedes the
  whole price, a churn hazard past 1 at renewal, the hiring rule with no technician and
  at its line, a rep let go after his whole (rounded-up) ramp, each year's tax, the new
  clients' price, cash exactly at the credit line.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_oracles import BOOK, SURE_REP
from test_reference import merged, run_paths, z_score


def test_an_insolvent_month_closes_the_business(runner):
    """No cash, $5,000 of credit, three technicians ($19,500) for $10,000 of managed
    revenue: month 1 loses 8,800 - 19,500 = $10,700 (no bonus pool on a loss) and cash
    falls to -$10,700, below the credit line: insolvent in month 1 (docs/model.md step
    9). That month keeps its loss and cash; its MRR, revenue, customers and staff are 0;
    every later month is 0 but for cash, held at the deficit."""
    data = merged(BOOK, start={"cash": 0.0, "techs": 3}, finance={"credit_limit": 5000.0})
    m, fp, im = run_paths(runner, data, n_paths=2, seed=1)
    assert im.tolist() == [1, 1] and fp.tolist() == [-1, -1]
    np.testing.assert_allclose(m["pretax_profit"][:, 1], -10_700.0, rtol=1e-12)
    np.testing.assert_allclose(m["cash"][:, 1:], -10_700.0, rtol=1e-12)
    assert np.all(m["mrr"][:, 0] == 10_000.0) and np.all(m["techs"][:, 0] == 3)
    for name in m:
        if name in ("cash", "pretax_profit"):
            continue
        assert np.all(m[name][:, 1] == 0.0), name
    for name in m:
        if name != "cash":
            assert np.all(m[name][:, 2:] == 0.0), name


def test_cash_exactly_at_the_credit_line_is_not_yet_insolvent(runner):
    """docs/model.md step 9: insolvent when cash falls *below* -credit_limit. The month-1
    loss of the case above ($10,700) with exactly $10,700 of credit leaves cash at the
    line: solvent; month 2 loses as much again plus a month's interest on the drawn
    $10,700: insolvent in month 2."""
    data = merged(BOOK, start={"cash": 0.0, "techs": 3}, finance={"credit_limit": 10_700.0})
    m, _, im = run_paths(runner, data, n_paths=2, seed=1)
    assert im.tolist() == [2, 2]
    np.testing.assert_allclose(m["cash"][:, 1], -10_700.0, rtol=1e-12)
    np.testing.assert_allclose(m["pretax_profit"][:, 2], -10_700.0 - 0.1 / 12 * 10_700.0,
                               rtol=1e-12)


def test_alignment_staff_cover_points_over_rate_clients_a_month(runner):
    """Ten clients, the program from month 1 with one administrator for up to 20 clients
    (hired in month 1, there from month 2: lag 1), 2 score points a month at 0.25 a
    client: floor(1 x 2 / 0.25) = 8 clients covered a month, the first eight in signing
    order, no drift (docs/model.md step 7, model v4). Mean score 0, then 8 x 0.25 / 10 =
    0.2 a month: 0.2, 0.4, 0.6, 0.8 (the eight reach 1 in month 5) and 0.8 from then on;
    with 4 points all ten are covered (16 > 10): 0.25 a month up to 1."""
    data = merged(BOOK, staff={"hire_lag_months": 1},
                  alignment={"enabled": True, "start_month": 1, "clients_per_staff": 20.0,
                             "staff_points_per_month": 2.0, "rate": 0.25, "drift": 0.0,
                             "staff_cost_per_month": 8000.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert m["alignment_staff"][:, :4].tolist() == [[0, 0, 1, 1]] * 2
    mean = [0.0, 0.0, 0.2, 0.4, 0.6, 0.8] + [0.8] * 7
    np.testing.assert_allclose(m["alignment_mean"], np.broadcast_to(mean, (2, 13)),
                               rtol=1e-12, atol=1e-15)
    m, _, _ = run_paths(runner, merged(data, alignment={"staff_points_per_month": 4.0}),
                        n_paths=2, seed=1)
    mean = [0.0, 0.0, 0.25, 0.5, 0.75] + [1.0] * 8
    np.testing.assert_allclose(m["alignment_mean"], np.broadcast_to(mean, (2, 13)),
                               rtol=1e-12, atol=1e-15)


# The book of tests/test_oracles.py makes $10,000 x 0.88 - $6,500 = $2,300 of gross profit
# every month (managed services less tools and the technician; nothing else moves).
GROSS = 2300.0


@pytest.mark.parametrize(("multiple", "earliest", "start"), [
    (2.0, 1, 2),  # 2,300 >= 2 x 1,000 in month 1: the rep starts in month 2
    (2.3, 1, 2),  # exactly covered: it fires
    (2.0, 4, 4),  # decided in month 1, but not before the start month
    (2.31, 1, None),  # never covered: no rep
])
def test_reps_start_the_month_after_the_margin_covers_them(runner, multiple, earliest, start):
    """Issue 25's trigger rule for the reps (docs/model.md, "Trigger rules"): a $1,000 rep
    who books half the plan (under the firing line of 0.6), with a one-month ramp and
    two months of review, starts the month after the first month whose gross profit
    covers ``multiple`` x $1,000, and no earlier than ``rep_start_month``; the owner
    lets him go 1 + 2 months after his start (step 4). Profit $2,070 a month without him,
    (2,300 - 1,000) x 0.9 = $1,170 with him."""
    data = merged(BOOK, sales={"reps": 1, "rep_start_month": earliest,
                               "rep_hire_margin_multiple": multiple,
                               "rep_cost_per_month": 1000.0, "rep_meetings_per_month": 0.0,
                               "rep_washout_share": 0.0, "rep_productivity": 0.5,
                               "rep_fire_below": 0.6, "rep_ramp_months": 1.0,
                               "rep_review_months": 2})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    paid = np.zeros(13, dtype=bool)
    if start is not None:
        paid[start:start + 3] = True
    profit = np.where(paid, (GROSS - 1000.0) * 0.9, GROSS * 0.9)
    profit[0] = 0.0
    np.testing.assert_allclose(m["pretax_profit"], np.broadcast_to(profit, (2, 13)),
                               rtol=1e-12)


@pytest.mark.parametrize(("clients", "earliest", "start"), [
    (10, 1, 2),  # the book has 10 clients at the end of month 1: the program starts in 2
    (10, 3, 3),  # not before its start month
    (11, 1, None),  # never reached (nothing is sold): no program
])
def test_alignment_starts_the_month_after_the_book_reaches_its_clients(runner, clients,
                                                                      earliest, start):
    """Issue 25's trigger rule for the standardization program: it starts the month after
    the book (after the month's signings) reaches ``start_clients``, no earlier than
    ``alignment.start_month``; its first administrator is posted in its first month and
    arrives a month later (lag 1)."""
    data = merged(BOOK, staff={"hire_lag_months": 1},
                  alignment={"enabled": True, "start_month": earliest,
                             "start_clients": clients, "clients_per_staff": 20.0,
                             "staff_cost_per_month": 8000.0, "drift": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    staff = np.zeros(13)
    if start is not None:
        staff[start + 1:] = 1
    assert m["alignment_staff"].tolist() == [staff.tolist()] * 2


def test_overhead_counts_every_employee_on_the_payroll(runner):
    """docs/model.md step 9: overhead of $200 an employee, employees = technicians +
    alignment staff + service managers + reps on the payroll. One technician, a service
    manager from the start ($5,000), a rep ($5,000, no meetings) from month 1 and an
    alignment administrator ($8,000, no standard stack to pay for) hired in month 1 who
    is there from month 2: month 1, 8,800 - 6,500 - 5,000 - 5,000 - 3 x 200 = -$8,300;
    from month 2, -8,300 - 8,000 - 200 = -$16,500 (losses: no bonus pool)."""
    data = merged(BOOK, start={"managers": 1}, staff={"hire_lag_months": 1,
                                                      "manager_cost_per_month": 5000.0},
                  sales={"reps": 1, "rep_start_month": 1, "rep_cost_per_month": 5000.0,
                         "rep_meetings_per_month": 0.0, **SURE_REP},
                  alignment={"enabled": True, "start_month": 1, "clients_per_staff": 20.0,
                             "staff_cost_per_month": 8000.0, "drift": 0.0},
                  finance={"overhead_per_employee_month": 200.0,
                           "standard_stack_cost_per_endpoint": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert m["alignment_staff"][:, :4].tolist() == [[0, 0, 1, 1]] * 2
    assert np.all(m["managers"][:, 1:] == 1)  # (month 0 records no managers)
    profit = np.array([0.0, -8300.0] + [-16_500.0] * 11)
    np.testing.assert_allclose(m["pretax_profit"], np.broadcast_to(profit, (2, 13)),
                               rtol=1e-12)


@pytest.mark.parametrize(("cash", "pay", "profit"), [
    (0.5, 0.0, [0.0] * 12),  # cash under a dollar earns no interest and costs none
    (1000.0, 3000.0, [-1000.0] + [0.0] * 11),  # the owner takes what cash there is, then 0
    (5000.0, 3000.0, [-3000.0, -2000.0] + [0.0] * 10),
])
def test_the_owner_is_paid_from_cash_and_never_from_the_credit_line(runner, cash, pay,
                                                                    profit):
    """docs/model.md step 9: an empty business (no clients, no staff) with ``cash`` and a
    $1M credit line at 12% a year pays its owner min(pay, max(cash, 0)) a month, and
    interest only on credit drawn (cash below 0): it spends its cash on the owner and
    stops there, never borrowing for him."""
    data = merged(BOOK, start={"customers": 0, "techs": 0, "cash": cash},
                  finance={"credit_limit": 1e6, "credit_annual_rate": 0.12,
                           "owner_pay_per_month": pay})
    m, _, im = run_paths(runner, data, n_paths=2, seed=1)
    np.testing.assert_allclose(m["pretax_profit"][:, 1:], np.broadcast_to(profit, (2, 12)),
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(m["cash"][:, -1], cash + sum(profit), rtol=1e-12)
    assert np.all(im == -1)


def test_bonus_pool_and_tax_on_a_profit_of_cents(runner):
    """One client of one seat at 10 cents, no staff: $0.10 x 0.88 = $0.088 of gross profit
    a month, less the 10% bonus pool (paid out of any positive month, however small) =
    $0.0792; the year's $0.9504 is taxed 25% in month 12 (any positive year is taxed)."""
    data = merged(BOOK, start={"customers": 1, "techs": 0},
                  customers={"seats": 1, "price_per_seat": 0.1},
                  finance={"tax_rate": 0.25})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    np.testing.assert_allclose(m["pretax_profit"][:, 1:], 0.1 * 0.88 * 0.9, rtol=1e-12)
    tax = np.zeros(13)
    tax[12] = 0.25 * 12 * (0.1 * 0.88 * 0.9)
    np.testing.assert_allclose(m["tax_paid"], np.broadcast_to(tax, (2, 13)), rtol=1e-12,
                               atol=1e-15)


def test_a_rate_under_one_ticket_a_month_raises_tickets(runner):
    """docs/model.md step 2: one client of one seat (one endpoint), half aligned (no drift),
    0.6 reactive-type and 0.4 aligned-type tickets an endpoint a month: N_R ~ Poisson(0.3),
    N_A ~ Poisson(0.2), so Poisson(0.5) tickets a month (0.5 h and 0.25 h each): over
    60 paths x 12 months, the mean count and the mean hours within 4 SE."""
    data = merged(BOOK, start={"customers": 1, "alignment_score": 0.5},
                  customers={"seats": 1},
                  tickets={"per_endpoint_reactive": 0.6, "per_endpoint_aligned": 0.4,
                           "hours_reactive": 0.5, "hours_aligned": 0.25},
                  alignment={"drift": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=60, seed=3)
    tickets, hours = m["tickets"][:, 1:].ravel(), m["ticket_hours"][:, 1:].ravel()
    assert abs(z_score(tickets, 0.5)) < 4
    assert abs(z_score(hours, 0.3 * 0.5 + 0.2 * 0.25)) < 4


def test_per_client_seats_are_drawn_from_their_distribution(runner):
    """docs/model.md "Two kinds of randomness": each client draws its seats by inverse CDF
    from ``customers.seats`` (here uniform on [10, 20]), rounded to the nearest integer:
    10 and 20 with probability 0.05, 11..19 with 0.1 each, mean 15, variance 8.5. The
    800 clients of two paths' starting books: their seats' sum within 4 SE of 12,000, and
    the managed MRR their seats at $100."""
    data = merged(BOOK, simulation={"months": 1}, start={"customers": 400},
                  customers={"seats": {"dist": "uniform", "low": 10, "high": 20}})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=9)
    seats = m["seats"][:, 0]
    assert abs(seats.sum() - 800 * 15.0) < 4 * (800 * 8.5) ** 0.5
    assert np.all(seats == np.rint(seats))
    np.testing.assert_allclose(m["mrr_managed"][:, 0], 100.0 * seats, rtol=1e-12)


def test_turnover_rises_with_last_months_overload(runner):
    """docs/model.md step 1 (v2): each technician quits with probability
    q = min(1, q0 (1 + turnover_overload x max(utilization_(t-1) - 1, 0))), q0 = 1 - (1 -
    0.5)^(1/12), turnover_overload 2. Ten technicians and 2,100 hours of work: month 1's
    quits are Binomial(10, q0) (utilization 0 before it), month 2's Binomial(T_1, q)
    at month 1's utilization 2,100 / (140 T_1) (above 1.5). 300 paths: the sums of quits
    within 4 SE of the sums of T q."""
    data = merged(BOOK, simulation={"months": 2}, start={"techs": 10},
                  tickets={"proactive_hours_per_endpoint": 21.0},
                  staff={"tech_turnover_annual": 0.5, "turnover_overload": 2.0})
    m, _, _ = run_paths(runner, data, n_paths=300, seed=2)
    q0 = 1.0 - 0.5 ** (1.0 / 12.0)
    quits, techs = m["tech_quits"], m["techs"]
    np.testing.assert_allclose(m["utilization"][:, 1], 2100.0 / (140.0 * techs[:, 1]),
                               rtol=1e-12)
    for q, n, k in ((np.full(300, q0), np.full(300, 10.0), quits[:, 1]),
                    (np.minimum(1.0, q0 * (1 + 2.0 * (m["utilization"][:, 1] - 1.0))),
                     techs[:, 1], quits[:, 2])):
        mean, var = (n * q).sum(), (n * q * (1 - q)).sum()
        assert abs(k.sum() - mean) < 4 * var ** 0.5, (k.sum(), mean)


@pytest.mark.parametrize(("techs", "proactive", "after"), [
    (2, 1.4, 2),  # 140 h = exactly 0.5 x 2 x 140: not idle (the rule is "below")
    (2, 1.0, 1),  # 100 h: idle, one of two let go after 3 idle months
    (1, 0.0, 1),  # the last technician is never let go
])
def test_an_idle_team_lets_one_technician_go(runner, techs, proactive, after):
    """docs/model.md step 10: a month is idle when W < layoff_below x T x 140 with T > 1 and
    nobody posted; after 3 idle months running one technician leaves at the start of the
    next month (months 1-3 idle: gone from month 4)."""
    data = merged(BOOK, start={"techs": techs},
                  tickets={"proactive_hours_per_endpoint": proactive},
                  staff={"layoff_below": 0.5, "layoff_after_months": 3})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    want = [techs] * 4 + [after] * 9
    assert m["techs"].tolist() == [want, want]


def test_an_aligned_endpoint_takes_its_own_maintenance_hours(runner):
    """docs/model.md step 2 (v3, third pass): maintenance hours K = sum_i e_i ((1 - a_i)
    proactive_hours_per_endpoint + a_i proactive_hours_aligned). Ten clients of 10 seats
    at 2 endpoints a seat (200 endpoints), half aligned (no drift), 0.5 h an endpoint
    reactive-type and 0.2 h aligned: K = 200 x (0.5 x 0.5 + 0.5 x 0.2) = 70 hours, the
    month's whole work (no tickets), half of one technician's 140 hours."""
    data = merged(BOOK, start={"alignment_score": 0.5},
                  customers={"endpoints_per_seat": 2.0},
                  tickets={"proactive_hours_per_endpoint": 0.5,
                           "proactive_hours_aligned": 0.2},
                  alignment={"drift": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    np.testing.assert_allclose(m["work_hours"][:, 1:], 70.0, rtol=1e-12)
    np.testing.assert_allclose(m["utilization"][:, 1:], 0.5, rtol=1e-12)


def test_clients_signed_while_the_program_runs_start_at_the_onboarding_score(runner):
    """docs/model.md step 6 (v3, third pass): a client signed in a month t >= the
    program's start month starts at ``alignment.onboarding_score`` (0.5), one signed
    before it at 0. The book's ten start at 0, nothing drifts and the staff cover no
    client (floor(A x 0.01 / 1) = 0 for fewer than 100 staff, step 7); the owner's 40
    selling hours make Poisson(40) meetings a month, each a deal that signs at once. The
    mean score is then 0.5 x (clients signed from month 3 on) / clients."""
    data = merged(BOOK, sales={"meetings_per_selling_hour": 1.0, "proposal_rate": 1.0,
                               "close_rate": 1.0, "cycle_months": 0.0},
                  alignment={"enabled": True, "start_month": 3, "onboarding_score": 0.5,
                             "staff_points_per_month": 0.01, "rate": 1.0, "drift": 0.0,
                             "clients_per_staff": 1000.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    clients = m["customers"]
    assert np.all(np.diff(clients[:, 2:], axis=1) > 0)  # someone signs every month
    onboarded = clients - clients[:, 2:3]
    onboarded[:, :3] = 0.0
    np.testing.assert_allclose(m["alignment_mean"], 0.5 * onboarded / clients, rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("twin", ["reference", "engine"])
def test_a_table_draw_interpolates_its_last_segment(twin):
    """docs/model.md "Two kinds of randomness": a per-unit draw is the inverse CDF read
    from an equally spaced table at position u (size - 1), linearly interpolated. On the
    table [0, 1, 2] a draw is 2u exactly, over the top segment (u >= 0.5) too: the
    reference's at given u, the engine's against the uniform its generator gives from
    the same state."""
    table = np.array([0.0, 1.0, 2.0])
    if twin == "reference":
        from simulator.model.reference import _sample_table
        for u in (0.0, 0.25, 0.5, 0.625, 0.999):
            assert _sample_table(table, u) == pytest.approx(2.0 * u, rel=1e-15, abs=0.0)
        return
    random = pytest.importorskip("simulator.engine._random")
    from simulator.engine._mechanisms import draw_from_table
    state, twin_state = np.zeros(4, dtype=np.uint64), np.zeros(4, dtype=np.uint64)
    random.seed_state(state, 7)
    random.seed_state(twin_state, 7)
    draws = np.array([draw_from_table(state, table) for _ in range(40)])
    u = np.array([random.uniform(twin_state) for _ in range(40)])
    assert np.sum(u >= 0.5) >= 10
    np.testing.assert_allclose(draws, 2.0 * u, rtol=1e-15, atol=0.0)


def test_a_month_without_work_is_not_felt_as_strain(runner):
    """docs/model.md step 3 (v3): the felt failure is f = min(1, u + strain_weight V / W);
    a month with no work (the book of ten clients raises no tickets and asks no
    maintenance: W = 0) has no overtime (V = 0) and nothing undone (u = 0), so f = 0 and
    service failure stays 0 however heavy the strain weight; nobody churns for it."""
    data = merged(BOOK, churn={"strain_weight": 1.5, "service_memory_months": 1.0,
                               "overload_sensitivity": 4.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert np.all(m["work_hours"] == 0.0)
    assert np.all(m["service_failure"] == 0.0)
    assert np.all(m["customers"] == 10)


def test_a_sound_service_keeps_its_referrals_and_a_price_rise_costs_deals(runner):
    """docs/model.md step 4: a meeting is a deal with probability proposal_rate x
    close_rate x (1 + price_rise)^-e x (1 - referral_share (1 - exp(-overload z))). With
    no work (z = 0) nothing is lost to referrals; proposal rate 0.5, close rate 1 and a
    10% rise at e = 2: p = 0.5 / 1.1^2 = 0.4132. The owner's 40 selling hours make
    Poisson(40) meetings in month 1, every deal signs at once (no cycle): over 200 paths
    the signed share within 4 SE of p."""
    data = merged(BOOK, simulation={"months": 1}, customers={"price_rise": 0.1},
                  sales={"meetings_per_selling_hour": 1.0, "proposal_rate": 0.5,
                         "close_rate": 1.0, "cycle_months": 0.0, "referral_share": 0.3,
                         "price_close_response": 2.0},
                  churn={"strain_weight": 1.5, "overload_sensitivity": 4.0})
    m, _, _ = run_paths(runner, data, n_paths=200, seed=4)
    assert np.all(m["service_failure"] == 0.0)
    p = 0.5 / 1.1**2
    meetings, signed = m["meetings"][:, 1].sum(), m["new_customers"][:, 1].sum()
    assert abs(signed - p * meetings) < 4 * (meetings * p * (1 - p)) ** 0.5, signed / meetings


@pytest.mark.parametrize(("first_at", "managers"), [
    (1, [0, 0] + [1] * 11),  # the team of one reaches 1: posted in month 1, there from 2
    (2, [0] * 13),  # never reached (no technician is hired)
    (0, [0] * 13),  # no such rule: one per 8 technicians, none for one
])
def test_the_first_service_manager_comes_when_the_team_reaches_its_size(runner, first_at,
                                                                         managers):
    """docs/model.md, "Trigger rules": with ``staff.first_manager_at_techs = T`` the first
    service manager is called for once the team with the technicians posted reaches T
    (at T itself), though the span rule (one per 8) asks for none; posted at the end of
    month 1 with a month's lag. The book's one technician never wants a colleague."""
    data = merged(BOOK, staff={"hire_lag_months": 1, "first_manager_at_techs": first_at,
                               "techs_per_manager": 8.0, "manager_cost_per_month": 5000.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert m["managers"].tolist() == [managers, managers]
    assert np.all(m["techs"] == 1)


def _mechanism_modules():
    from simulator.model import mechanisms
    engine = pytest.importorskip("simulator.engine._mechanisms")
    return mechanisms, engine


@pytest.mark.parametrize("twin", ["reference", "engine"])
def test_reps_make_no_meetings_before_their_start_month(twin):
    """docs/model.md step 4: meetings ~ Poisson(meetings_per_selling_hour x S + reps x
    rep_meetings_per_month x ramp_t), ramp_t = min(1, (t - start + 1) / ramp) from the
    reps' start month and nothing before it. 1 meeting an hour for 10 selling hours, 2
    reps of 30 meetings from month 4 over a 3-month ramp: 10 before month 4, then 10 + 60
    x 1/3, 2/3, 1. (The function itself, each twin: the path loop passes only reps
    on the payroll, none before the start, so this edge is the function's contract.)"""
    module = _mechanism_modules()[twin == "engine"]
    rate = [module.meeting_rate(1.0, 10.0, 2, 30.0, 4, 3.0, t) for t in range(1, 9)]
    assert rate == pytest.approx([10.0] * 3 + [30.0, 50.0, 70.0, 70.0, 70.0], rel=1e-15)


def test_the_engine_grows_its_book_keeping_types_and_customers():
    """The engine's book grows by copying (``_kernel._grow``): the new array has the old
    one's dtype (seat counts, renewal months and flags stay what they were), at least
    twice its size (16 at least), and the first ``n`` entries carried over."""
    kernel = pytest.importorskip("simulator.engine._kernel")
    for arr in (np.array([3, 1, 4], dtype=np.int64), np.array([True, False, True]),
                np.array([0.5, 1.5, 2.5])):
        out = kernel._grow(arr, 2)
        assert out.dtype == arr.dtype and out.size == 16
        assert out[:2].tolist() == arr[:2].tolist()
    assert kernel._grow(np.zeros(20), 20).size == 40


def test_the_book_takes_the_decided_rise_at_its_first_renewal(runner):
    """docs/model.md step 5: at a book client's first renewal its price moves by the
    renewal factor (1 here: no escalator, no concession) and the decided rise applies,
    p <- p (1 + price_rise); nobody leaves for it (price_rise_response 0). Ten clients
    of 10 seats at $100 on 12-month terms all renew within the year: the managed MRR
    climbs from $10,000 in steps of $100 (one client's $1,000 x 0.1) to $11,000 in
    month 12."""
    data = merged(BOOK, customers={"price_rise": 0.1, "price_escalator": 0.0},
                  churn={"price_rise_response": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    mrr = m["mrr_managed"]
    assert np.all(m["customers"] == 10)
    np.testing.assert_allclose(mrr[:, 0], 10_000.0, rtol=1e-12)
    np.testing.assert_allclose(mrr[:, 12], 11_000.0, rtol=1e-12)
    renewed = (mrr - 10_000.0) / 100.0  # clients renewed so far
    np.testing.assert_allclose(renewed, np.rint(renewed), atol=1e-6)
    assert np.all(np.diff(renewed, axis=1) >= 0)


def test_a_quit_chance_past_one_empties_the_team(runner):
    """docs/model.md step 1 (v2): q = min(1, q0 (1 + turnover_overload x max(u - 1, 0))).
    Ten technicians, 2,100 hours of work and turnover_overload 100: after month 1 the
    team's utilization is at least 2,100 / 1,400 = 1.5, so month 2's q is at least 51 q0
    (q0 = 1 - 0.5^(1/12) = 0.056): above 1, clamped to 1, and every technician quits."""
    data = merged(BOOK, simulation={"months": 2}, start={"techs": 10},
                  tickets={"proactive_hours_per_endpoint": 21.0},
                  staff={"tech_turnover_annual": 0.5, "turnover_overload": 100.0})
    m, _, _ = run_paths(runner, data, n_paths=4, seed=2)
    assert np.all(m["techs"][:, 1] > 0)
    assert m["tech_quits"][:, 2].tolist() == m["techs"][:, 1].tolist()
    assert np.all(m["techs"][:, 2] == 0)


# --- each mechanism against its formula in docs/model.md, at its edges ------------------
#
# Issue 30, engine group seed 3: the mechanisms' clamps, thresholds and constants, each
# case a value of docs/model.md's formula worked out by hand. Called on each twin
# directly, which holds the function's contract (the formula as written): a few of
# these edges cannot be reached from a config the schema accepts (a concession above
# 1; seats under 1), or the path loop treats both sides alike today (a deal chance
# above 1 compared with a uniform), and a bug there is caught before a caller that
# passes other values meets it.

LOG3 = math.log(3.0)
CONTRACTS = [
    # step 3: f = min(1, u + strain_weight V / W), the strain 0 when W = 0
    ("service_felt", (0.0, 0.5, 0.5, 1.0), 1.0),  # half an hour of work, all overtime
    ("service_felt", (0.3, 140.0, 400.0, 1.0), 0.65),
    ("service_felt", (0.3, 140.0, 400.0, 3.0), 1.0),  # 0.3 + 1.05, capped
    ("service_felt", (0.0, 0.0, 0.0, 2.0), 0.0),  # no work, nothing felt
    # step 5: max(0, 1 + price_escalator - renewal_concession z)
    ("renewal_price_factor", (0.05, 0.5, 0.2), 0.95),
    ("renewal_price_factor", (0.0, 1.0, 1.0), 0.0),  # the whole price conceded
    ("renewal_price_factor", (0.0, 2.0, 1.0), 0.0),  # floored at 0
    # step 5: h = min(1, h0 (1 - visibility q) exp(overload z))
    ("churn_hazard", (0.01, 0.5, 0.4, 0.0, 0.7), 0.008),
    ("churn_hazard", (0.5, 0.0, 1.0, LOG3, 1.0), 1.0),  # 1.5, capped
    ("churn_hazard", (0.25, 0.0, 1.0, LOG3, 1.0), 0.75),
    ("churn_hazard", (0.01, 0.0, 1.0, 2.0, 0.5), 0.01 * math.e),  # k z = 1
    # step 8: max(billable - bill_rate s U, 0)
    ("projects_billed", (1200.0, 120.0, 0.5, 10.0), 600.0),
    ("projects_billed", (1200.0, 120.0, 0.5, 30.0), 0.0),  # 1,800 lost of 1,200: nothing
    # step 4: ramp_t = min(1, (t - start + 1) / ramp), 1 when the ramp is 0, 0 before start
    ("meeting_rate", (1.0, 10.0, 2, 30.0, 4, 0.0, 3), 10.0),
    ("meeting_rate", (1.0, 10.0, 2, 30.0, 4, 0.0, 4), 70.0),
    ("meeting_rate", (1.0, 10.0, 2, 30.0, 4, 0.5, 9), 70.0),
    ("meeting_rate", (1.0, 10.0, 2, 30.0, 4, 4.0, 5), 40.0),  # (5 - 4 + 1) / 4 = 0.5
    ("meeting_rate", (1.0, 10.0, 2, 30.0, 4, 4.0, 9), 70.0),  # 6 / 4 = 1.5, capped
    ("meeting_rate", (0.5, 10.0, 1, 30.0, 4, 3.0, 4), 15.0),  # one rep
    # step 4: let go ceil(ramp) + review months after the start when under the line
    ("reps_on_payroll", (2, 3, 2, 1.5, 2, 0.5, 0.6), 0),
    ("reps_on_payroll", (2, 3, 3, 1.5, 2, 0.5, 0.6), 2),
    ("reps_on_payroll", (2, 3, 6, 1.5, 2, 0.5, 0.6), 2),  # 3 + ceil(1.5) + 2 = 7
    ("reps_on_payroll", (2, 3, 7, 1.5, 2, 0.5, 0.6), 0),
    ("reps_on_payroll", (2, 3, 7, 1.5, 2, 0.6, 0.6), 2),  # at the line: kept
    # step 10: W / ((T + P) tech_hours) > hire_above, or T + P = 0 and W > 0
    ("wants_technician", (87.5, 1, 140.0, 0.625), False),  # exactly at the line
    ("wants_technician", (87.5, 1, 140.0, 0.62), True),
    ("wants_technician", (87.5, 2, 140.0, 0.3), True),
    ("wants_technician", (0.5, 0, 140.0, 0.85), True),  # nobody, any work
    ("wants_technician", (0.0, 0, 140.0, 0.85), False),
    # step 10: idle below layoff_below T tech_hours, T > 1, nobody posted
    ("wants_layoff", (139.0, 2, 0, 140.0, 0.5), True),
    ("wants_layoff", (140.0, 2, 0, 140.0, 0.5), False),
    ("wants_layoff", (10.0, 1, 0, 140.0, 0.5), False),
    ("wants_layoff", (10.0, 3, 1, 140.0, 0.5), False),
    # step 7: min(n, floor(A points / rate)), every client when the rate is 0
    ("clients_aligned", (10, 0, 3.0, 0.0), 10),
    ("clients_aligned", (10, 1, 3.0, 0.5), 6),
    ("clients_aligned", (10, 1, 3.0, 0.3), 10),  # 3 / 0.3 = 10, not 9
    ("clients_aligned", (10, 2, 3.0, 0.5), 10),  # 12 capped
    # step 3: d + (min(U, K) / K - d) / months, the share 0 when K = 0
    ("maintenance_debt", (0.5, 0.0, 10.0, 2.0), 0.25),
    ("maintenance_debt", (0.0, 50.0, 80.0, 4.0), 0.25),  # all 50 skipped: share 1
    ("maintenance_debt", (0.2, 50.0, 20.0, 4.0), 0.25),  # 0.2 + (0.4 - 0.2) / 4
    ("maintenance_debt", (0.0, 0.5, 0.25, 2.0), 0.25),  # half an hour, half skipped
    # step 3: V = min((W - K) / e, stretch) when W > K, else 0
    ("overtime_worked", (150.0, 140.0, 21.0, 0.5), 20.0),
    ("overtime_worked", (200.0, 140.0, 21.0, 1.0), 21.0),
    ("overtime_worked", (140.0, 140.0, 21.0, 1.0), 0.0),
    ("overtime_efficiency", (2, 0.5), 0.5),
    # step 3: E' = share_R X_R + share_A X_A, all of it below the lead size
    ("escalation_hours", (10.0, 4.0, 0.2, 0.1, 1, 2, 0.3), 2.4),
    ("escalation_hours", (10.0, 4.0, 0.2, 0.1, 2, 2, 0.3), 0.72),
    # step 10: floor((T + P) / span), the first at first_at (0: no such rule)
    ("managers_wanted", (1, 8.0, 0), 0),
    ("managers_wanted", (8, 8.0, 0), 1),
    ("managers_wanted", (17, 8.0, 3), 2),
    ("managers_wanted", (3, 8.0, 3), 1),
    ("managers_wanted", (2, 8.0, 3), 0),
    ("managers_wanted", (1, 8.0, 1), 1),
    # step 9: tax_rate x the year's profit when positive, in months 12, 24, ...
    ("tax_due", (24, 100.0, 0.25), 25.0),
    ("tax_due", (18, 100.0, 0.25), 0.0),
    ("tax_due", (12, 0.5, 0.25), 0.125),
    ("tax_due", (12, -5.0, 0.25), 0.0),
    # steps 7 and 10: cash + credit >= months x cost
    ("can_pay", (3000.0, 13_000.0, 2.0, 8000.0), True),
    ("can_pay", (2999.0, 13_000.0, 2.0, 8000.0), False),
    # the trigger rules: the month after t, no earlier than the start month
    ("trigger_start", (13, 1, 3, 12, True), 4),
    ("trigger_start", (13, 6, 3, 12, True), 6),
    ("trigger_start", (13, 1, 3, 12, False), 13),
    ("trigger_start", (13, 3, 3, 12, True), 4),
    ("trigger_start", (5, 1, 3, 12, True), 5),  # already set
    ("trigger_start", (12, 1, 3, 12, True), 12),  # set to the last month: set
    # step 3: the owner's hours in order: escalations, management, care, overflow beyond
    # the capacity K (with the overtime stretch), selling; (E_p, M_p, C_p, W, F_o, U, S)
    ("owners_month", (200.0, 40.0, 10.0, 20.0, 30.0, 150.0, 100.0),
     (10.0, 20.0, 30.0, 140.0, 40.0, 0.0, 40.0)),
    ("owners_month", (50.0, 40.0, 10.0, 20.0, 30.0, 150.0, 100.0),
     (10.0, 20.0, 20.0, 140.0, 0.0, 40.0, 0.0)),
    ("owners_month", (75.0, 40.0, 10.0, 20.0, 30.0, 150.0, 130.0),
     (10.0, 20.0, 30.0, 140.0, 10.0, 0.0, 5.0)),
    ("owners_month", (5.0, 40.0, 10.0, 20.0, 30.0, 150.0, 200.0),
     (5.0, 0.0, 0.0, 145.0, 0.0, 0.0, 0.0)),
    ("owners_month", (300.0, 40.0, 0.0, 0.0, 0.0, 100.0, 100.0),
     (0.0, 0.0, 0.0, 100.0, 0.0, 0.0, 40.0)),
    # step 6: the onboarding score while the program runs, else 0
    ("onboarding_alignment", (True, 0.4), 0.4),
    ("onboarding_alignment", (False, 0.4), 0.0),
]


def _source(function):
    """The Python source of an engine mechanism (``py_func``; the function itself where
    numba is off, as in tests/mutation.py). The cases below check formulas, not the
    compiler: calling the compiled functions one by one would compile each of them
    again (seconds on a cold cache); the compiled path loop inlines them and is held
    to its twin by the run-level oracles and tests/test_engine_vs_reference.py."""
    return getattr(function, "py_func", function)


@pytest.mark.parametrize("twin", ["reference", "engine"])
def test_each_mechanism_follows_its_formula_at_its_edges(twin):
    """Every case of ``CONTRACTS`` on the twin: the value docs/model.md's formula gives
    (floats within 1e-12, counts and decisions exactly)."""
    module = _mechanism_modules()[twin == "engine"]
    wrong = []
    for name, args, want in CONTRACTS:
        got = _source(getattr(module, name))(*args)
        if isinstance(want, (float, tuple)):
            ok = got == pytest.approx(want, rel=1e-12, abs=1e-15)
        else:
            ok = got == want
        if not ok:
            wrong.append((name, args, got, want))
    assert not wrong


def test_the_engines_quit_probability_follows_its_formula():
    """docs/model.md step 1 (v2): q = min(1, q0 (1 + turnover_overload max(u - 1, 0))),
    u last month's utilization (the engine's own function; the reference computes it
    inside its ``staff_turnover``)."""
    engine = _mechanism_modules()[1]
    quit = _source(engine.quit_probability)
    assert quit(0.05, 2.0, 1.5) == pytest.approx(0.1, rel=1e-12)
    assert quit(0.05, 2.0, 0.5) == 0.05  # under capacity: the base chance
    assert quit(0.05, 2.0, 1.0) == 0.05
    assert quit(0.05, 100.0, 2.0) == 1.0  # 5.05 capped
    assert quit(0.05, 30.0, 2.0) == 1.0  # 1.55 capped


@pytest.mark.parametrize("twin", ["reference", "engine"])
def test_a_deal_is_at_most_certain(twin):
    """docs/model.md step 4: min(1, proposal x close x (1 + rise)^-e x (1 - referral_share
    (1 - exp(-overload z)))). A price cut of 50% at e = 1 doubles the close rate: 0.75 x 2
    = 1.5, capped at 1 (every meeting a deal, never more); 0.3 x 2 = 0.6; with a rise of
    10% at e = 2 and z = 0.1, 0.5 / 1.21 x (1 - 0.3 (1 - exp(-0.4)))."""
    reference, engine = _mechanism_modules()

    def deal(prob, rise, response, referral, overload, z):
        if twin == "reference":
            return reference.deal_probability(prob, rise, response, referral, overload, z)
        factor = _source(engine.price_close_factor)(rise, response)
        return _source(engine.deal_probability)(prob, factor, referral, overload, z)

    assert deal(0.75, -0.5, 1.0, 0.3, 4.0, 0.0) == 1.0
    assert deal(0.3, -0.5, 1.0, 0.3, 4.0, 0.0) == pytest.approx(0.6, rel=1e-12)
    assert deal(0.5, 0.1, 2.0, 0.3, 4.0, 0.1) == pytest.approx(
        0.5 / 1.21 * (1.0 - 0.3 * (1.0 - math.exp(-0.4))), rel=1e-12)


@pytest.mark.parametrize("twin", ["reference", "engine"])
def test_seats_are_rounded_to_at_least_one(twin):
    """docs/model.md "Two kinds of randomness": a client's seats are its draw rounded to
    the nearest integer, and at least 1. A table of values in [1.6, 1.9] gives 2 seats (not
    1: rounded, not truncated); one in [0, 0.4] gives 1 (the schema keeps seats at 1 or
    more, so this is the function's floor, not a config's)."""
    if twin == "reference":
        from simulator.model.reference import _draw_seats
        rng = np.random.default_rng(1)

        def draw(table):
            return _draw_seats(rng, table)
    else:
        random = pytest.importorskip("simulator.engine._random")
        from simulator.engine._mechanisms import draw_seats
        state = np.zeros(4, dtype=np.uint64)
        random.seed_state(state, 1)

        def draw(table):
            return _source(draw_seats)(state, table)
    for table, seats in ((np.array([1.6, 1.7, 1.9]), 2.0), (np.array([0.0, 0.2, 0.4]), 1.0)):
        assert [draw(table) for _ in range(20)] == [seats] * 20


# --- the same edges reached through a run (issue 30, engine group seed 3) ----------------

# A shop whose whole work goes undone every month: no technician, an owner with no hours
# and nobody hired, 100 hours of maintenance on the book's 100 endpoints, one month of
# memory. u = U / W = 1 and f = 1 from month 1: z = 1 every month (docs/model.md step 3).
UNSERVED = merged(BOOK, start={"techs": 0}, tickets={"proactive_hours_per_endpoint": 1.0},
                  staff={"owner_hours_per_month": 0.0, "hire_after_months": 60},
                  churn={"service_memory_months": 1.0})


@pytest.mark.parametrize(("strain", "felt"), [(1.0, 0.65), (3.0, 1.0)])
def test_a_strain_past_one_is_felt_as_total_failure(runner, strain, felt):
    """docs/model.md step 3: f = min(1, u + strain_weight V / W). One technician (140 h)
    who may double his hours (overtime_max_share 1), 400 hours of maintenance, an owner
    with no hours: V = 140 overtime hours, 120 undone (u = 0.3); f = 0.3 + 0.35 = 0.65 at
    strain weight 1, 0.3 + 1.05 capped at 1 at 3; one month of memory, so z = f."""
    data = merged(BOOK, simulation={"months": 1},
                  tickets={"proactive_hours_per_endpoint": 4.0},
                  staff={"overtime_max_share": 1.0, "owner_hours_per_month": 0.0},
                  churn={"strain_weight": strain, "service_memory_months": 1.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    np.testing.assert_allclose(m["unserved_share"][:, 1], 0.3, rtol=1e-12)
    np.testing.assert_allclose(m["service_failure"][:, 1], felt, rtol=1e-12)


def test_a_client_who_went_without_any_service_renews_for_nothing(runner):
    """docs/model.md step 5: a renewing client pays p max(0, 1 + escalator - concession z).
    With nothing done for it (z = 1, ``UNSERVED``), no escalator and a concession of 1
    the factor is exactly 0: each of the ten clients ($1,000 a month) pays nothing from
    its renewal in months 1-12 on, so the managed MRR falls by $1,000 steps to 0. Nobody
    churns (annual rate 0); a shop without technicians has no utilization."""
    data = merged(UNSERVED, customers={"renewal_concession": 1.0, "price_escalator": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert np.all(m["service_failure"][:, 1:] == 1.0) and np.all(m["utilization"] == 0.0)
    assert np.all(m["customers"] == 10)
    mrr = m["mrr_managed"]
    assert np.all(mrr[:, 12] == 0.0) and np.all(mrr[:, 0] == 10_000.0)
    steps = -np.diff(mrr, axis=1) / 1000.0
    assert np.all(steps >= 0) and np.all(steps == np.rint(steps))


def test_a_hazard_past_one_takes_every_renewing_client(runner):
    """docs/model.md step 5, renewal mode: h = min(1, h0 exp(k z)), a renewing client
    leaves with probability 1 - (1 - h)^contract_months. With z = 1 (``UNSERVED``), h0 =
    1 - 0.8^(1/12) and k = log(1.99 / h0), h0 e^k = 1.99 is capped at 1: each of the ten
    clients leaves at its renewal in months 1-12 (an uncapped 1.99 would keep each with
    probability 0.99^12 = 0.89)."""
    h0 = 1.0 - 0.8 ** (1.0 / 12.0)
    data = merged(UNSERVED, churn={"mode": "renewal", "annual_rate": 0.2,
                                   "visibility_reduction": 0.0,
                                   "overload_sensitivity": math.log(1.99 / h0)})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert np.all(m["service_failure"][:, 1:] == 1.0)
    assert np.all(m["customers"][:, 12] == 0) and np.all(m["churned"].sum(axis=1) == 10)
    np.testing.assert_array_equal(m["customers"][:, 1:],
                                  10 - np.cumsum(m["churned"][:, 1:], axis=1))


@pytest.mark.parametrize(("customers", "techs", "proactive", "hire_above", "want"), [
    (1, 0, 0.5, 0.85, [0, 0] + [1] * 11),  # no technician, half an hour of work: hire
    (0, 0, 0.5, 0.85, [0] * 13),  # no technician and no work: nobody
    (10, 1, 0.875, 0.625, [1] * 13),  # 87.5 h / 140 h = 0.625 exactly: not above
    (10, 1, 0.875, 0.62, [1, 1] + [2] * 11),
])
def test_the_hiring_rule_at_its_edges(runner, customers, techs, proactive, hire_above, want):
    """docs/model.md step 10: a month is overloaded when W / ((T + P) tech_hours) >
    hire_above, or when T + P = 0 and W > 0; after one such month (hire_after_months 1)
    a technician is posted and arrives the next month (lag 1). Clients of one seat
    (one endpoint) or the book of 100 endpoints, ``proactive`` hours an endpoint."""
    data = merged(BOOK, start={"customers": customers, "techs": techs},
                  customers={"seats": 1 if techs == 0 else 10},
                  tickets={"proactive_hours_per_endpoint": proactive},
                  staff={"hire_above": hire_above, "hire_after_months": 1,
                         "hire_lag_months": 1})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert m["techs"].tolist() == [want, want]


@pytest.mark.parametrize(("productivity", "paid_months"), [(0.5, 4), (0.6, 12)])
def test_a_rep_under_the_line_is_let_go_after_the_whole_ramp(runner, productivity,
                                                             paid_months):
    """docs/model.md step 4 (v4): a rep who books under ``fire_below`` (0.6) of the plan is
    let go ``review_months`` (2) after his ramp, counted in whole months (a 1.5-month ramp
    is 2): from month 1 he is paid in months 1-4; at exactly the line he stays. Profit
    (2,300 - 1,000) x 0.9 = $1,170 a month while he is paid, $2,070 after."""
    data = merged(BOOK, sales={"reps": 1, "rep_start_month": 1, "rep_cost_per_month": 1000.0,
                               "rep_meetings_per_month": 0.0, "rep_washout_share": 0.0,
                               "rep_productivity": productivity, "rep_fire_below": 0.6,
                               "rep_ramp_months": 1.5, "rep_review_months": 2})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    profit = np.array([0.0] + [1170.0] * paid_months + [2070.0] * (12 - paid_months))
    np.testing.assert_allclose(m["pretax_profit"], np.broadcast_to(profit, (2, 13)),
                               rtol=1e-12)


def test_each_years_tax_is_on_that_years_profit(runner):
    """docs/model.md step 9: in months 12, 24, ... tax_rate x the pretax profit of the year
    then ending (the year's total starts afresh): $2,070 a month, 25%: $6,210 in month 12
    and again in month 24, not on two years' profit."""
    data = merged(BOOK, simulation={"months": 24}, finance={"tax_rate": 0.25})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    tax = np.zeros(25)
    tax[[12, 24]] = 0.25 * 12 * 2070.0
    np.testing.assert_allclose(m["tax_paid"], np.broadcast_to(tax, (2, 25)), rtol=1e-12,
                               atol=1e-9)


def test_new_clients_pay_the_decided_rise_from_month_one(runner):
    """docs/model.md step 6: a client signed in month t pays price_per_seat x (1 +
    price_rise) ($100 x 1.25, a rise the prospects do not mind: close response 0). No
    book, the owner's 40 selling hours at a meeting an hour, every meeting a deal that
    signs at once: the managed MRR is $1,250 (10 seats) times the clients signed."""
    data = merged(BOOK, simulation={"months": 3}, start={"customers": 0},
                  customers={"price_rise": 0.25},
                  sales={"meetings_per_selling_hour": 1.0, "proposal_rate": 1.0,
                         "close_rate": 1.0, "cycle_months": 0.0,
                         "price_close_response": 0.0})
    m, _, _ = run_paths(runner, data, n_paths=2, seed=1)
    assert np.all(m["new_customers"][:, 1:] > 0)
    np.testing.assert_allclose(m["mrr_managed"], 1250.0 * m["customers"], rtol=1e-12)
    np.testing.assert_array_equal(m["customers"], np.cumsum(m["new_customers"], axis=1))
