"""The mechanisms of one MSP month, one small ``@jit`` function each (docs/model.md).

Private to the engine: the path loop of :mod:`simulator.engine._kernel` calls
them in the month's order. Each is named as in docs/model.md and as its twin in
:mod:`simulator.model.reference`, so the two can be read side by side; the
sampling helpers draw from the run's tables with the path's generator
(:mod:`simulator.engine._random`).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit, jit_inline
from ._random import binomial_given, poisson, uniform

__all__ = [
    "can_pay", "churn_hazard", "clients_aligned", "deal_probability", "draw_from_table",
    "draw_seats", "escalation_hours", "gross_profit_by_line", "maintenance_debt",
    "maintenance_hours",
    "managers_wanted", "meeting_rate", "onboarding_alignment", "overtime_efficiency",
    "overtime_worked", "owners_month", "pretax_profit", "price_close_factor",
    "projects_billed", "quit_probability", "renewed_price",
    "renewal_price_factor", "reps_on_payroll", "service_felt", "staff_turnover", "tax_due",
    "tickets_month", "trigger_start", "wants_layoff", "wants_technician",
]


# --- sampling helpers ---------------------------------------------------------

@jit
def draw_from_table(state, table):
    """One draw by inverse CDF from an equally spaced ``ppf`` table."""
    x = uniform(state) * (table.size - 1)
    i = int(x)
    if i >= table.size - 1:
        return table[table.size - 1]
    frac = x - i
    return table[i] + frac * (table[i + 1] - table[i])


@jit
def draw_seats(state, table):
    s = draw_from_table(state, table)
    s = float(np.rint(s))
    return s if s >= 1.0 else 1.0


# --- the mechanisms, in the month's order (docs/model.md) -----------------------

@jit
def quit_probability(quit_base, turnover_overload, utilization_before):
    """Step 1: a technician's chance to quit this month: ``min(1, quit_base * (1 +
    turnover_overload * max(utilization - 1, 0)))``."""
    over = utilization_before - 1.0 if utilization_before > 1.0 else 0.0
    q = quit_base * (1.0 + turnover_overload * over)
    if q > 1.0:
        q = 1.0
    return q


@jit_inline
def staff_turnover(state, techs, q, p0):
    """Step 1: technicians who quit this month, each with probability ``q``
    (:func:`quit_probability`): one binomial draw (one uniform, where a uniform per
    technician drew 8 a month). ``p0`` is the binomial's ``P(0)`` kept by the caller
    while the team and ``q`` stay as they were (negative: not known); returns the draw
    and ``P(0)`` if the draw computed it (:func:`~simulator.engine._random.binomial_given`)."""
    return binomial_given(state, techs, q, p0)


@jit
def maintenance_hours(proactive, proactive_aligned, endpoints_per_seat, seats_unaligned,
                      seats_aligned):
    """Step 2: the month's proactive (maintenance) hours: ``proactive`` an endpoint of the
    reactive-type book, ``proactive_aligned`` an endpoint of the aligned one (a standard
    stack scripted in the RMM, seed 002)."""
    return (proactive * endpoints_per_seat * seats_unaligned
            + proactive_aligned * endpoints_per_seat * seats_aligned)


@jit
def maintenance_debt(debt, maintenance, unserved, debt_months):
    """Step 3: the maintenance debt after the month: an overloaded team skips proactive
    maintenance first (seed 004), so ``min(unserved, maintenance)`` of the month's
    ``maintenance`` hours go undone; the debt moves towards the skipped share by
    ``1 / debt_months`` a month (it builds while maintenance is skipped and is paid off
    at the same pace once it is done again). In [0, 1]: 1 is an estate left without
    maintenance for good."""
    if maintenance > 0.0:
        skipped = unserved if unserved < maintenance else maintenance
        share = skipped / maintenance
    else:
        share = 0.0
    return debt + (share - debt) / debt_months


@jit_inline
def tickets_month(state, rate_r, rate_a, endpoints_per_seat, seats_unaligned, seats_aligned,
                  neglect):
    """Step 2: reactive-type and aligned-type ticket counts of the month; ``neglect`` (``1 +
    neglect_ticket_uplift * maintenance debt``) multiplies both rates."""
    lam_r = rate_r * neglect * endpoints_per_seat * seats_unaligned
    lam_a = rate_a * neglect * endpoints_per_seat * seats_aligned
    n_r = poisson(state, lam_r) if lam_r > 0.0 else 0
    n_a = poisson(state, lam_a) if lam_a > 0.0 else 0
    return n_r, n_a


@jit
def escalation_hours(hours_reactive, hours_aligned, share_reactive, share_aligned, techs,
                     lead_techs, owner_share_led):
    """Step 3: the escalated ticket hours the owner is asked to take: a share of
    each ticket type's hours, all of it while the team is smaller than
    ``lead_techs``, ``owner_share_led`` of it once a senior technician or
    service-desk lead takes the escalations."""
    escalated = share_reactive * hours_reactive + share_aligned * hours_aligned
    return escalated if techs < lead_techs else owner_share_led * escalated


@jit
def overtime_efficiency(months_running, fatigue):
    """Step 3: the work an overtime hour gets done after ``months_running``
    months of overtime running: ``1 / (1 + fatigue * months_running)``
    (sustained overtime stops paying: tired technicians fix less per hour)."""
    return 1.0 / (1.0 + fatigue * months_running)


@jit
def overtime_worked(work, capacity, stretch, efficiency):
    """Step 3: overtime hours worked (and paid) to get ``work`` done beyond
    ``capacity``: ``(work - capacity) / efficiency``, at most ``stretch``."""
    if work <= capacity:
        return 0.0
    hours = (work - capacity) / efficiency
    return hours if hours < stretch else stretch


@jit
def projects_billed(billable, bill_rate, project_share, unserved):
    """Step 8: project and T&M revenue billed on the hours delivered: the
    project share of the month's undone hours is not billed (at
    ``bill_rate`` a technician hour, at most the month's billable revenue)."""
    lost = bill_rate * project_share * unserved
    return billable - lost if lost < billable else 0.0


@jit
def service_felt(unserved_share, overtime_hours, work, strain_weight):
    """Step 3: the month's service failure as customers feel it: the work left
    undone plus ``strain_weight`` times the share of the work done in overtime
    (slow responses and rushed fixes of a team stretched past its hours)."""
    strained = overtime_hours / work if work > 0.0 else 0.0
    felt = unserved_share + strain_weight * strained
    return felt if felt < 1.0 else 1.0


@jit
def price_close_factor(price_rise, close_response):
    """Step 4: the close-rate response to a price rise, ``(1 + rise)^-e`` (a path's
    constant: computed once)."""
    return (1.0 + price_rise) ** (-close_response)


@jit
def deal_probability(deal_prob, price_factor, referral_share, overload, service_failure):
    """Step 4: the chance that a meeting becomes a deal: the proposal and close
    rates, times the close-rate response to a price rise ``price_factor``
    (:func:`price_close_factor`), times the referrals a failing service loses
    ``1 - referral_share * (1 - exp(-overload * service_failure))``."""
    x = -overload * service_failure
    lost = 1.0 - (math.exp(x) if x != 0.0 else 1.0)  # exp(0) is 1 exactly: no call
    referrals = 1.0 - referral_share * lost
    prob = deal_prob * price_factor * referrals
    return prob if prob < 1.0 else 1.0


@jit
def renewal_price_factor(escalator, concession, service_failure):
    """Step 5: a renewing customer's price multiplier: the escalator less a
    concession for the service it remembers (floored at a price of 0)."""
    factor = 1.0 + escalator - concession * service_failure
    return factor if factor > 0.0 else 0.0


@jit
def owners_month(owner_hours, owner_sales_max, escalations, management, care, demand,
                 capacity):
    """Step 3: the owner's hours, paid in order (escalations, management,
    account care, overflow tickets, selling).

    Returns ``(escalations_paid, management_paid, care_paid, work, owner_overflow,
    unserved, selling)``, ``work`` the technicians' work of the month: ``demand``
    (every hour of the month's work) less the escalations the owner took.
    """
    rest = owner_hours
    escalations_paid = min(escalations, rest)
    rest -= escalations_paid
    management_paid = min(management, rest)
    rest -= management_paid
    care_paid = min(care, rest)
    rest -= care_paid
    work = demand - escalations_paid
    overflow = work - capacity if work > capacity else 0.0
    owner_overflow = min(overflow, rest)
    rest -= owner_overflow
    unserved = overflow - owner_overflow
    selling = min(rest, owner_sales_max)
    return (escalations_paid, management_paid, care_paid, work, owner_overflow, unserved,
            selling)


@jit
def meeting_rate(meetings_per_hour, selling, reps, rep_meetings, rep_start, rep_ramp, t):
    """Step 4: expected meetings: the owner's selling hours plus the reps, each
    ramping linearly to full productivity over ``rep_ramp`` months from ``rep_start``."""
    lam = meetings_per_hour * selling
    if reps > 0 and t >= rep_start:
        ramp = (t - rep_start + 1) / rep_ramp if rep_ramp > 0.0 else 1.0
        if ramp > 1.0:
            ramp = 1.0
        lam += reps * rep_meetings * ramp
    return lam


@jit
def reps_on_payroll(reps, rep_start, t, ramp_months, review_months, productivity, fire_below):
    """Step 4: the salespeople paid in month ``t``: none before ``rep_start``; the owner
    lets them go ``review_months`` after the ramp when they book under ``fire_below`` of
    the planned meetings (their pay and meetings stop)."""
    if t < rep_start:
        return 0
    if (productivity < fire_below
            and t >= rep_start + int(math.ceil(ramp_months)) + int(review_months)):
        return 0
    return reps


@jit
def onboarding_alignment(aligning, onboarding_score):
    """Step 6: a new client's alignment score: a shop running the program onboards it
    onto its standard stack (``onboarding_score``); otherwise it starts reactive (0)."""
    return onboarding_score if aligning else 0.0


@jit
def clients_aligned(clients, align_staff, staff_points, rate):
    """Step 7: how many clients (in signing order) the alignment staff work on this
    month: each staff member adds ``staff_points`` score points a month, a client
    takes ``rate`` of them (all clients when the rate is 0)."""
    if rate <= 0.0:
        return clients
    covered = int(align_staff * staff_points / rate + 1e-9)
    return covered if covered < clients else clients


@jit
def churn_hazard(h0, visibility, care_share, overload, service_failure):
    """Step 5: this month's churn hazard of every customer of the path."""
    x = overload * service_failure
    h = h0 * (1.0 - visibility * care_share) * (math.exp(x) if x != 0.0 else 1.0)
    return h if h < 1.0 else 1.0


@jit
def gross_profit_by_line(managed, projects, techs, overtime_hours, align_staff, project_share,
                         aligned_endpoints, p):
    """Step 9: gross profit of managed services and of projects: the technicians'
    cost (pay and overtime) split by the share of their hours that went to
    projects and onboarding; alignment staff, tools (the baseline RMM/PSA share of
    revenue) and the standard stack licensed on each aligned endpoint are
    managed-services costs."""
    tech_cost = p.staff_tech_cost_per_month
    hourly = tech_cost / p.staff_tech_hours_per_month
    labour = techs * tech_cost + overtime_hours * hourly * p.staff_overtime_premium
    gp_managed = (managed * (1.0 - p.finance_tools_share) - (1.0 - project_share) * labour
                  - align_staff * p.alignment_staff_cost_per_month
                  - aligned_endpoints * p.finance_standard_stack_cost_per_endpoint)
    gp_projects = (1.0 - p.finance_project_other_cost_share) * projects - project_share * labour
    return gp_managed, gp_projects


@jit
def pretax_profit(managed, cloud, projects, legacy_products, products_ms, gp_managed,
                  gp_projects, techs, align_staff, managers, reps_paid, customers, cash_before,
                  p):
    """Step 9: the month's pretax profit."""
    revenue = managed + cloud + projects + legacy_products + products_ms
    gross = (gp_managed + gp_projects + cloud
             + p.finance_product_margin_legacy * legacy_products
             + p.finance_product_margin_ms * products_ms)
    employees = techs + align_staff + managers + reps_paid
    overhead = (p.finance_overhead_per_month + p.finance_overhead_per_employee_month * employees
                + p.finance_overhead_per_customer_month * customers)
    drawn = -cash_before if cash_before < 0.0 else 0.0
    interest = p.finance_credit_annual_rate / 12.0 * drawn
    owner_pay = p.finance_owner_pay_per_month  # the owner goes unpaid before the bank
    if owner_pay > cash_before:
        owner_pay = cash_before if cash_before > 0.0 else 0.0
    opex = (managers * p.staff_manager_cost_per_month + reps_paid * p.sales_rep_cost_per_month
            + owner_pay + overhead + p.finance_marketing_share * revenue)
    profit = gross - opex - interest
    if profit > 0.0:  # bonus pool paid out of a profitable month
        profit -= p.finance_profit_share * profit
    return profit


@jit
def tax_due(t, year_to_date, tax_rate):
    """Step 9: tax on a year's positive pretax profit, paid in months 12, 24, ..."""
    if t % 12 != 0 or year_to_date <= 0.0:
        return 0.0
    return tax_rate * year_to_date


@jit
def wants_technician(work, techs_planned, tech_hours, hire_above):
    """Step 10: the hiring rule (counting technicians already posted)."""
    if techs_planned > 0:
        return work / (techs_planned * tech_hours) > hire_above
    return work > 0.0


@jit
def wants_layoff(work, techs, techs_posted, tech_hours, layoff_below):
    """Step 10: the team is idle: work below ``layoff_below`` of capacity, more
    than one technician and nobody posted."""
    return techs > 1 and techs_posted == 0 and work < layoff_below * techs * tech_hours


@jit
def can_pay(cash, credit_limit, months, cost):
    """Steps 7 and 10: cash plus unused credit cover ``months`` of a hire's cost."""
    return cash + credit_limit >= months * cost


@jit
def trigger_start(start, earliest, t, H, fired):
    """The plan's trigger rules: a start not yet set (``start > H``) is set to the
    month after ``t`` (no earlier than ``earliest``) once the rule ``fired``."""
    if start > H and fired:
        return t + 1 if t + 1 > earliest else earliest
    return start


@jit
def managers_wanted(planned, span, first_at):
    """Step 10: service managers the team calls for: one per ``span`` technicians,
    and the first once it reaches ``first_at`` technicians (0: no such rule)."""
    wanted = int(planned / span)
    if first_at > 0 and planned >= first_at and wanted < 1:
        wanted = 1
    return wanted


@jit
def renewed_price(price, pending, factor, rise):
    """A customer's price after its renewal in this month: it moves by ``factor``
    (:func:`renewal_price_factor`) and a ``pending`` price rise applies. (Scalars in and
    out: the path loop books the next renewal; a compiled call that took the book's
    arrays would take a reference on each, four atomic pairs a renewal.)"""
    price *= factor
    if pending:
        price *= 1.0 + rise
    return price
