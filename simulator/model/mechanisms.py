"""The reference model's mechanisms: docs/model.md's month, one plain-Python function per
mechanism, each the twin of the function of the same name in
``simulator/engine/_mechanisms.py`` (:mod:`simulator.model.reference` runs them path by
path, month by month)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Customer", "total", "staff_turnover", "tickets_month", "maintenance_hours",
           "maintenance_debt",
           "escalation_hours", "overtime_efficiency", "overtime_worked", "projects_billed",
           "service_felt", "deal_probability", "renewal_price_factor", "owners_month",
           "reps_on_payroll", "onboarding_alignment", "clients_aligned", "meeting_rate",
           "churn_hazard", "gross_profit_by_line", "pretax_profit", "tax_due",
           "wants_technician", "wants_layoff", "can_pay", "trigger_start",
           "managers_wanted"]


@dataclass
class Customer:
    """One managed-services customer."""

    seats: int
    price: float  # $/seat/month
    alignment: float  # score in [0, 1]
    start: int  # contract start month c_i
    pending: bool = False  # a decided price rise still waits for this client's renewal


def total(values) -> float:
    """Left-to-right float sum (``sum`` is compensated from Python 3.12 on)."""
    acc = 0.0
    for v in values:
        acc += v
    return acc


def staff_turnover(rng: np.random.Generator, techs: int, quit_base: float,
                   turnover_overload: float, utilization_before: float) -> int:
    """Step 1: technicians who quit this month (binomial)."""
    q = min(1.0, quit_base * (1.0 + turnover_overload * max(utilization_before - 1.0, 0.0)))
    return int(rng.binomial(techs, q)) if q > 0.0 else 0


def tickets_month(rng: np.random.Generator, customers: list[Customer], rate_r: float, rate_a: float,
                  endpoints_per_seat: float, neglect: float) -> tuple[int, int]:
    """Step 2: reactive-type and aligned-type ticket counts; ``neglect`` (``1 +
    neglect_ticket_uplift * maintenance debt``) multiplies both rates."""
    lam_r = (rate_r * neglect * endpoints_per_seat
             * total(c.seats * (1.0 - c.alignment) for c in customers))
    lam_a = rate_a * neglect * endpoints_per_seat * total(c.seats * c.alignment for c in customers)
    return int(rng.poisson(lam_r)), int(rng.poisson(lam_a))


def maintenance_hours(customers: list[Customer], proactive: float, proactive_aligned: float,
                      endpoints_per_seat: float) -> float:
    """Step 2: proactive (maintenance) hours: ``proactive`` an endpoint of the reactive-type
    book, ``proactive_aligned`` an endpoint of the aligned one."""
    unaligned = total(c.seats * (1.0 - c.alignment) for c in customers)
    aligned = total(c.seats * c.alignment for c in customers)
    return (proactive * endpoints_per_seat * unaligned
            + proactive_aligned * endpoints_per_seat * aligned)


def maintenance_debt(debt: float, maintenance: float, unserved: float,
                     debt_months: float) -> float:
    """Step 3: the maintenance debt after the month. The undone hours come out of
    maintenance first (seed 004: an overloaded team has no time for proactive work): the
    skipped share ``min(unserved, maintenance) / maintenance`` (0 without maintenance);
    ``debt + (skipped share - debt) / debt_months``."""
    share = min(unserved, maintenance) / maintenance if maintenance > 0 else 0.0
    return debt + (share - debt) / debt_months


def escalation_hours(hours_reactive: float, hours_aligned: float, share_reactive: float,
                     share_aligned: float, techs: int, lead_techs: float,
                     owner_share_led: float) -> float:
    """Step 3: escalated hours the owner is asked to take (all of them below
    ``lead_techs`` technicians, ``owner_share_led`` of them from then on)."""
    escalated = share_reactive * hours_reactive + share_aligned * hours_aligned
    return escalated if techs < lead_techs else owner_share_led * escalated


def overtime_efficiency(months_running: int, fatigue: float) -> float:
    """Step 3: work an overtime hour gets done after ``months_running`` months of
    overtime running, ``1 / (1 + fatigue * months_running)`` (sustained overtime
    stops paying)."""
    return 1.0 / (1.0 + fatigue * months_running)


def overtime_worked(work: float, capacity: float, stretch: float, efficiency: float) -> float:
    """Step 3: overtime hours worked (and paid) to get ``work`` done beyond ``capacity``."""
    if work <= capacity:
        return 0.0
    return min((work - capacity) / efficiency, stretch)


def projects_billed(billable: float, bill_rate: float, project_share: float,
                    unserved: float) -> float:
    """Step 8: project and T&M revenue billed on the hours delivered (the project
    share of the undone hours is not billed)."""
    return max(billable - bill_rate * project_share * unserved, 0.0)


def service_felt(unserved_share: float, overtime_hours: float, work: float,
                 strain_weight: float) -> float:
    """Step 3: the service failure customers feel this month."""
    strained = overtime_hours / work if work > 0 else 0.0
    return min(1.0, unserved_share + strain_weight * strained)


def deal_probability(deal_prob: float, price_rise: float, close_response: float,
                     referral_share: float, overload: float, service_failure: float) -> float:
    """Step 4: chance that a meeting becomes a deal (price response, lost referrals)."""
    price_factor = (1.0 + price_rise) ** (-close_response)
    referrals = 1.0 - referral_share * (1.0 - math.exp(-overload * service_failure))
    return min(1.0, deal_prob * price_factor * referrals)


def renewal_price_factor(escalator: float, concession: float, service_failure: float) -> float:
    """Step 5: a renewing customer's price multiplier."""
    return max(0.0, 1.0 + escalator - concession * service_failure)


def owners_month(owner_hours: float, owner_sales_max: float, escalations: float,
                 management: float, care: float, demand: float, capacity: float
                 ) -> tuple[float, float, float, float, float, float, float]:
    """Step 3: the owner's hours in order; returns ``(escalations_paid, management_paid,
    care_paid, work, owner_overflow, unserved, selling)``."""
    rest = owner_hours
    escalations_paid = min(escalations, rest)
    rest -= escalations_paid
    management_paid = min(management, rest)
    rest -= management_paid
    care_paid = min(care, rest)
    rest -= care_paid
    work = demand - escalations_paid
    overflow = max(work - capacity, 0.0)
    owner_overflow = min(overflow, rest)
    rest -= owner_overflow
    unserved = overflow - owner_overflow
    selling = min(rest, owner_sales_max)
    return (escalations_paid, management_paid, care_paid, work, owner_overflow, unserved,
            selling)


def reps_on_payroll(reps: int, rep_start: int, t: int, ramp_months: float,
                    review_months: int, productivity: float, fire_below: float) -> int:
    """Step 4: the salespeople paid in month ``t``: none before ``rep_start``; let go
    ``review_months`` after the ramp when they book under ``fire_below`` of plan."""
    if t < rep_start:
        return 0
    if productivity < fire_below and t >= rep_start + math.ceil(ramp_months) + review_months:
        return 0
    return reps


def onboarding_alignment(aligning: bool, onboarding_score: float) -> float:
    """Step 6: a new client's alignment score: onboarded onto the standard stack
    (``onboarding_score``) by a shop running the program; 0 (reactive) otherwise."""
    return onboarding_score if aligning else 0.0


def clients_aligned(clients: int, align_staff: int, staff_points: float, rate: float) -> int:
    """Step 7: clients (in signing order) the alignment staff work on: each adds
    ``staff_points`` score points a month, a client takes ``rate`` of them."""
    if rate <= 0:
        return clients
    return min(clients, int(align_staff * staff_points / rate + 1e-9))


def meeting_rate(meetings_per_hour: float, selling: float, reps: int, rep_meetings: float,
                 rep_start: int, rep_ramp: float, t: int) -> float:
    """Step 4: expected meetings from selling hours and (ramping) reps."""
    lam = meetings_per_hour * selling
    if reps > 0 and t >= rep_start:
        ramp = min(1.0, (t - rep_start + 1) / rep_ramp) if rep_ramp > 0 else 1.0
        lam += reps * rep_meetings * ramp
    return lam


def churn_hazard(h0: float, visibility: float, care_share: float, overload: float,
                 service_failure: float) -> float:
    """Step 5: the month's churn hazard."""
    return min(1.0, h0 * (1.0 - visibility * care_share) * math.exp(overload * service_failure))


def gross_profit_by_line(managed: float, projects: float, techs: int, overtime_hours: float,
                         align_staff: int, project_share: float, aligned_endpoints: float,
                         f: dict[str, float]) -> tuple[float, float]:
    """Step 9: managed-services and projects gross profit (technicians' cost split by hours;
    the standard stack licensed on each aligned endpoint)."""
    labour = (techs * f["tech_cost"]
              + overtime_hours * (f["tech_cost"] / f["tech_hours"]) * f["overtime_premium"])
    gp_managed = (managed * (1.0 - f["tools_share"]) - (1.0 - project_share) * labour
                  - align_staff * f["align_cost"] - aligned_endpoints * f["stack_cost"])
    gp_projects = (1.0 - f["project_other_cost_share"]) * projects - project_share * labour
    return gp_managed, gp_projects


def pretax_profit(managed: float, cloud: float, projects: float, legacy_products: float,
                  ms_products: float, gp_managed: float, gp_projects: float, techs: int,
                  align_staff: int, managers: int, reps_paid: int, customers: int,
                  cash_before: float, f: dict[str, float]) -> float:
    """Step 9: the month's pretax profit."""
    revenue = managed + cloud + projects + legacy_products + ms_products
    gross = (gp_managed + gp_projects + cloud
             + f["margin_legacy"] * legacy_products + f["margin_ms"] * ms_products)
    employees = techs + align_staff + managers + reps_paid
    overhead = (f["overhead_fixed"] + f["overhead_per_employee"] * employees
                + f["overhead_per_customer"] * customers)
    interest = f["credit_rate"] / 12.0 * max(-cash_before, 0.0)
    owner_pay = min(f["owner_pay"], max(cash_before, 0.0))  # unpaid before the bank
    opex = (managers * f["manager_cost"] + reps_paid * f["rep_cost"] + owner_pay + overhead
            + f["marketing_share"] * revenue)
    profit = gross - opex - interest
    if profit > 0:  # bonus pool paid out of a profitable month
        profit -= f["profit_share"] * profit
    return profit


def tax_due(t: int, year_to_date: float, tax_rate: float) -> float:
    """Step 9: tax on the year's positive pretax profit, in months 12, 24, ..."""
    return tax_rate * year_to_date if t % 12 == 0 and year_to_date > 0 else 0.0


def wants_technician(work: float, planned: int, tech_hours: float, hire_above: float) -> bool:
    """Step 10: the hiring rule."""
    return work / (planned * tech_hours) > hire_above if planned > 0 else work > 0


def wants_layoff(work: float, techs: int, techs_posted: int, tech_hours: float,
                 layoff_below: float) -> bool:
    """Step 10: the team stays idle (and nobody is posted): let one technician go."""
    return techs > 1 and techs_posted == 0 and work < layoff_below * techs * tech_hours


def can_pay(cash: float, credit_limit: float, months: float, cost: float) -> bool:
    """Steps 7 and 10: cash plus unused credit cover ``months`` of a hire's cost."""
    return cash + credit_limit >= months * cost


def trigger_start(start: int, earliest: int, t: int, horizon: int, fired: bool) -> int:
    """The plan's trigger rules: a start not yet set (``start > horizon``) becomes the
    month after ``t`` (no earlier than ``earliest``) once the rule has ``fired``."""
    return max(t + 1, earliest) if start > horizon and fired else start


def managers_wanted(planned: int, span: float, first_at: int) -> int:
    """Step 10: one service manager per ``span`` technicians; the first once the team
    reaches ``first_at`` technicians (0: no such rule)."""
    wanted = int(planned / span)
    return max(wanted, 1) if first_at > 0 and planned >= first_at else wanted
