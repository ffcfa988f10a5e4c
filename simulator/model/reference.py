"""Plain-Python reference model: docs/model.md, step by step, slowly and obviously.

This module is the yardstick the numba engine is tested against. It has the
engine's signature and output layout (:func:`simulate_reference` mirrors
``simulator.engine.run_chunk``) but none of its tricks: one Python object per
customer, one loop over months that follows the steps of docs/model.md in
order, and a ``numpy`` generator per path for the month-level draws. It does
not reproduce the engine's random streams (the engine draws from its own
xoshiro256** generators, :mod:`simulator.engine._random`), so engine and
reference agree in distribution, and bit for bit only where nothing is random.

Each mechanism of docs/model.md is one function of :mod:`simulator.model.mechanisms`
with the same name as its twin in ``simulator/engine/_mechanisms.py`` (``staff_turnover``,
``tickets_month``, ``owners_month``, ``meeting_rate``, ``churn_hazard``,
``pretax_profit``, ``tax_due``, ``wants_technician``, ``can_pay``), so the
two can be read side by side. Readings taken where docs/model.md leaves (or
left) room:

- A hire (technician, service manager or alignment) posted in month ``t``
  joins at step 1 of month ``t + max(hire_lag_months, 1)``.
- The money rule of an alignment hire (step 7) looks at the cash on hand at
  step 7, i.e. the end of the previous month (this month's profit is booked at
  step 9); the technician and manager rules (step 10) look at the cash after
  step 9.
- "Longest-standing" customers are those that joined the book first; the
  starting book (whose tenure is unknown) in the order it was drawn, before
  every signing. Churn keeps the order of the others.
- ``alignment_mean`` is 0 when there are no customers.

Where docs/model.md fixes a value but not the order of floating-point
operations, the reference groups them as the engine does (cloud commissions
= total seats x commission per seat, tools as ``managed * (1 - tools_share)``,
sums left to right in order of joining), so that cases without randomness
agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from .inputs import RunInputs, field_name
from .mechanisms import (
    Customer,
    can_pay,
    churn_hazard,
    clients_aligned,
    deal_probability,
    escalation_hours,
    gross_profit_by_line,
    maintenance_debt,
    maintenance_hours,
    managers_wanted,
    meeting_rate,
    onboarding_alignment,
    overtime_efficiency,
    overtime_worked,
    owners_month,
    pretax_profit,
    projects_billed,
    renewal_price_factor,
    reps_on_payroll,
    service_felt,
    staff_turnover,
    tax_due,
    tickets_month,
    total,
    trigger_start,
    wants_layoff,
    wants_technician,
)
from .metrics import METRICS

__all__ = ["simulate_reference", "simulate_path"]

_IDX = {name: k for k, name in enumerate(METRICS)}


def _p(params, key: str) -> float:
    return float(params[field_name(key)])


def _i(params, key: str) -> int:
    return int(round(float(params[field_name(key)])))


def _sample_table(table: np.ndarray, u: float) -> float:
    """Inverse-CDF sample: position ``u * (len - 1)``, linear interpolation."""
    pos = u * (len(table) - 1)
    k = int(math.floor(pos))
    if k >= len(table) - 1:
        return float(table[-1])
    frac = pos - k
    return float(table[k] + frac * (table[k + 1] - table[k]))


def _draw_seats(rng: np.random.Generator, table: np.ndarray) -> int:
    return max(1, int(np.rint(_sample_table(table, rng.random()))))


# ---- the mechanisms, one function each, named as in the engine ----------------

def simulate_path(params, seed: int, run: RunInputs) -> tuple[np.ndarray, int, int]:
    """Simulate one path.

    Parameters
    ----------
    params : numpy.void
        One row of :func:`simulator.model.sampling.draw_parameters`.
    seed : int
        The path's month-level seed (:func:`simulator.model.sampling.path_seeds`).
    run : RunInputs
        Run-level inputs.

    Returns
    -------
    metrics : ndarray, shape (len(METRICS), months + 1)
    first_passage : int
        First month at which MRR has been at or above the threshold for
        ``sustain_months`` consecutive months (the last of them), -1 if never.
    insolvency_month : int
        Month in which cash fell below minus the credit limit, -1 if never.
    """
    rng = np.random.default_rng(int(seed))
    H = run.months
    out = np.zeros((len(METRICS), H + 1), dtype=np.float64)

    # ---- parameters ------------------------------------------------------
    endpoints_per_seat = _p(params, "customers.endpoints_per_seat")
    price_per_seat = _p(params, "customers.price_per_seat")
    price_escalator = _p(params, "customers.price_escalator")
    price_rise = _p(params, "customers.price_rise")
    concession = _p(params, "customers.renewal_concession")
    p_rise_leave = min(1.0, _p(params, "churn.price_rise_response") * price_rise
                       if price_rise > 0 else 0.0)
    close_response = _p(params, "sales.price_close_response")
    referral_share = _p(params, "sales.referral_share")
    strain_weight = _p(params, "churn.strain_weight")
    contract_months = _i(params, "customers.contract_months")
    account_hours = _p(params, "customers.account_hours_per_month")
    onboarding_hours = _p(params, "customers.onboarding_hours_per_seat")
    cloud_per_seat = (_p(params, "cloud.adoption") * _p(params, "cloud.seat_price")
                      * _p(params, "cloud.commission_rate")
                      * (1.0 + _p(params, "cloud.attach_uplift")))
    meetings_per_hour = _p(params, "sales.meetings_per_selling_hour")
    reps = _i(params, "sales.reps")
    rep_start = _i(params, "sales.rep_start_month")
    rep_earliest = rep_start
    rep_multiple = _p(params, "sales.rep_hire_margin_multiple")
    rep_waits = rep_multiple > 0 and reps > 0  # the reps start by the trigger rule
    if rep_waits:
        rep_start = run.months + 1
    rep_ramp = _p(params, "sales.rep_ramp_months")
    rep_meetings = (_p(params, "sales.rep_meetings_per_month")
                    * _p(params, "sales.rep_productivity"))
    p_deal = _p(params, "sales.proposal_rate") * _p(params, "sales.close_rate")
    cycle_months = _p(params, "sales.cycle_months")
    annual_rate = _p(params, "churn.annual_rate")
    visibility = _p(params, "churn.visibility_reduction")
    overload = _p(params, "churn.overload_sensitivity")
    memory = _p(params, "churn.service_memory_months")
    rate_r = _p(params, "tickets.per_endpoint_reactive")
    rate_a = _p(params, "tickets.per_endpoint_aligned")
    hours_r = _p(params, "tickets.hours_reactive")
    hours_a = _p(params, "tickets.hours_aligned")
    proactive = _p(params, "tickets.proactive_hours_per_endpoint")
    proactive_aligned = _p(params, "tickets.proactive_hours_aligned")
    debt_months = _p(params, "tickets.maintenance_debt_months")
    uplift = _p(params, "tickets.neglect_ticket_uplift")
    tech_hours = _p(params, "staff.tech_hours_per_month")
    tech_cost = _p(params, "staff.tech_cost_per_month")
    hire_above = _p(params, "staff.hire_above")
    hire_lag = _i(params, "staff.hire_lag_months")
    hire_after = _i(params, "staff.hire_after_months")
    overtime_max = _p(params, "staff.overtime_max_share")
    fatigue = _p(params, "staff.overtime_fatigue")
    layoff_below = _p(params, "staff.layoff_below")
    layoff_after = _i(params, "staff.layoff_after_months")
    hire_cash_months = _p(params, "staff.hire_cash_months")
    carry = _p(params, "staff.backlog_carry")
    owner_hours = _p(params, "staff.owner_hours_per_month")
    owner_sales_max = _p(params, "staff.owner_sales_hours_per_month")
    escalation_share = _p(params, "staff.escalation_share")
    escalation_aligned = _p(params, "staff.escalation_share_aligned")
    lead_techs = _i(params, "staff.escalation_lead_techs")
    tiered_saving = _p(params, "tickets.tiered_desk_saving")
    owner_share_led = _p(params, "staff.owner_escalation_share_led")
    mgmt_per_employee = _p(params, "staff.management_hours_per_employee")
    span = _p(params, "staff.techs_per_manager")
    manager_cost = _p(params, "staff.manager_cost_per_month")
    turnover_annual = _p(params, "staff.tech_turnover_annual")
    turnover_overload = _p(params, "staff.turnover_overload")
    align_start = _i(params, "alignment.start_month")
    align_earliest = align_start
    align_clients = _i(params, "alignment.start_clients")
    align_waits = align_clients > 0 and run.alignment_enabled  # starts by the trigger rule
    if align_waits:
        align_start = run.months + 1
    first_manager_at = _i(params, "staff.first_manager_at_techs")
    clients_per_staff = _p(params, "alignment.clients_per_staff")
    align_cost = _p(params, "alignment.staff_cost_per_month")
    align_rate = _p(params, "alignment.rate")
    staff_points = _p(params, "alignment.staff_points_per_month")
    align_drift = _p(params, "alignment.drift")
    onboarding_score = _p(params, "alignment.onboarding_score")
    onboarding_fee = _p(params, "projects.onboarding_fee_per_seat")
    projects_per_year = _p(params, "projects.per_customer_year")
    product_spend = _p(params, "projects.product_spend_per_seat_year")
    bill_rate = _p(params, "projects.bill_rate_per_hour")
    legacy_products0 = _p(params, "start.legacy_product_revenue")
    legacy_projects0 = _p(params, "start.legacy_project_revenue")
    decline = _p(params, "legacy.decline_annual")
    credit_limit = _p(params, "finance.credit_limit")
    tax_rate = _p(params, "finance.tax_rate")
    finance = {
        "tools_share": _p(params, "finance.tools_share"), "tech_cost": tech_cost,
        "stack_cost": _p(params, "finance.standard_stack_cost_per_endpoint"),
        "tech_hours": tech_hours, "overtime_premium": _p(params, "staff.overtime_premium"),
        "align_cost": align_cost,
        "project_other_cost_share": _p(params, "finance.project_other_cost_share"),
        "margin_legacy": _p(params, "finance.product_margin_legacy"),
        "margin_ms": _p(params, "finance.product_margin_ms"),
        "overhead_fixed": _p(params, "finance.overhead_per_month"),
        "overhead_per_employee": _p(params, "finance.overhead_per_employee_month"),
        "overhead_per_customer": _p(params, "finance.overhead_per_customer_month"),
        "credit_rate": _p(params, "finance.credit_annual_rate"),
        "manager_cost": manager_cost, "rep_cost": _p(params, "sales.rep_cost_per_month"),
        "owner_pay": _p(params, "finance.owner_pay_per_month"),
        "marketing_share": _p(params, "finance.marketing_share"),
        "profit_share": _p(params, "finance.profit_share"),
    }
    lag = max(hire_lag, 1)  # lag 0: usable next month

    # ---- month 0 ---------------------------------------------------------
    customers: list[Customer] = []  # in order of joining the book
    book = np.asarray(run.book, dtype=np.float64).reshape(-1, 3)
    for k in range(_i(params, "start.customers")):
        if k < len(book):  # today's book, exactly: seats, price per seat, contract month
            seats, price, contract_month = book[k]
            customers.append(Customer(seats, price, _p(params, "start.alignment_score"),
                                      -(int(contract_month) % contract_months),
                                      price_rise != 0.0))
            continue
        seats = _draw_seats(rng, run.seats_ppf)
        start = 1 - int(rng.integers(1, contract_months + 1))  # 1 - U{1..contract_months}
        customers.append(Customer(seats, price_per_seat, _p(params, "start.alignment_score"),
                                  start, price_rise != 0.0))
    techs = _i(params, "start.techs")
    techs_leaving = 0  # technicians let go at the end of last month
    months_over = months_under = 0  # consecutive months above hire_above / below layoff_below
    align_staff = 0  # alignment staff
    managers = _i(params, "start.managers")  # service managers
    backlog = 0.0
    debt = _p(params, "start.maintenance_debt")  # the estate's neglected share
    service_failure = 0.0  # service failure: moving average of the unserved share
    utilization = 0.0
    year_to_date = 0.0
    onboarding_seats = 0  # seats signed last month
    overtime_run = 0  # consecutive months of overtime before this one
    cash = _p(params, "start.cash")
    tech_arrivals: dict[int, int] = {}  # month -> technicians arriving
    align_arrivals: dict[int, int] = {}  # month -> alignment staff arriving
    manager_arrivals: dict[int, int] = {}  # month -> service managers arriving
    pipeline: dict[int, int] = {}  # month -> deals signing

    def mrr_parts() -> tuple[float, float]:
        managed = total(c.seats * c.price for c in customers)
        cloud = total(c.seats for c in customers) * cloud_per_seat
        return managed, cloud

    def record(t: int, **values: float) -> None:
        for name, value in values.items():
            out[_IDX[name], t] = value

    managed, cloud = mrr_parts()
    record(0, mrr=managed + cloud, mrr_managed=managed, mrr_cloud=cloud,
           customers=len(customers), seats=total(c.seats for c in customers),
           owner_sales_hours=owner_sales_max, techs=techs, alignment_staff=align_staff,
           alignment_mean=(total(c.alignment for c in customers) / len(customers)
                           if customers else 0.0),
           cash=cash, maintenance_debt=debt)

    # ---- months 1..H -----------------------------------------------------
    h0 = 1.0 - (1.0 - annual_rate) ** (1.0 / 12.0)
    quit_base = 1.0 - (1.0 - turnover_annual) ** (1.0 / 12.0)
    for t in range(1, H + 1):
        n = len(customers)

        # 1. staff: arrivals, quits; alignment staff follow the client count
        techs += tech_arrivals.pop(t, 0) - techs_leaving
        techs_leaving = 0
        managers += manager_arrivals.pop(t, 0)
        align_staff += align_arrivals.pop(t, 0)
        quits = staff_turnover(rng, techs, quit_base, turnover_overload, utilization)
        techs -= quits
        if not run.alignment_enabled or t < align_start:
            align_staff = 0
        align_staff = min(align_staff, math.ceil(n / clients_per_staff))
        reps_paid = reps_on_payroll(reps, rep_start, t, rep_ramp,
                                    _i(params, "sales.rep_review_months"),
                                    _p(params, "sales.rep_productivity"),
                                    _p(params, "sales.rep_fire_below"))  # fired reps cost nothing

        # 2. tickets and the rest of the technicians' work
        n_r, n_a = tickets_month(rng, customers, rate_r, rate_a, endpoints_per_seat,
                                 1.0 + uplift * debt)
        tiered = techs >= lead_techs  # a lead and a tiered desk: faster first-line fixes
        speed = 1.0 - tiered_saving if tiered else 1.0
        hours_reactive = n_r * (hours_r * speed)
        hours_aligned = n_a * hours_a  # seed 004's aligned time is already a top desk's
        ticket_hours = hours_reactive + hours_aligned
        legacy_factor = math.exp(t / 12.0 * math.log1p(-decline)) if decline < 1.0 else 0.0
        legacy_projects = legacy_projects0 * legacy_factor
        n_projects = int(rng.poisson(n * (projects_per_year / 12.0)))
        ongoing = total(_sample_table(run.project_size_ppf, rng.random())
                        for _ in range(n_projects))
        project_hours = ((legacy_projects + ongoing) / bill_rate
                         + onboarding_hours * onboarding_seats)
        maintenance = maintenance_hours(customers, proactive, proactive_aligned,
                                        endpoints_per_seat)
        demand = ticket_hours + backlog + maintenance + project_hours
        project_share = project_hours / demand if demand > 0 else 0.0

        # 3. the owner's month
        directs = techs - min(techs, int(managers * span)) + align_staff + managers + reps_paid
        care = account_hours * n
        capacity = techs * tech_hours
        stretch = capacity * overtime_max
        efficiency = overtime_efficiency(overtime_run, fatigue)
        esc_paid, mgmt_paid, care_paid, work, owner_overflow, unserved, selling = owners_month(
            owner_hours, owner_sales_max,
            escalation_hours(hours_reactive, hours_aligned, escalation_share, escalation_aligned,
                             techs, lead_techs, owner_share_led),
            mgmt_per_employee * directs, care, demand, capacity + efficiency * stretch)
        overtime_hours = overtime_worked(work, capacity, stretch, efficiency)
        overtime_run = overtime_run + 1 if overtime_hours > 0 else 0
        care_share = care_paid / care if care > 0 else 1.0
        unserved_share = unserved / work if work > 0 else 0.0
        backlog = carry * unserved
        debt = maintenance_debt(debt, maintenance, unserved, debt_months)
        felt = service_felt(unserved_share, overtime_hours, work, strain_weight)
        service_failure += (felt - service_failure) / memory
        utilization = work / capacity if capacity > 0 and work > 0 else 0.0

        # 4. meetings and the pipeline
        lam = meeting_rate(meetings_per_hour, selling, reps_paid, rep_meetings, rep_start,
                           rep_ramp, t)
        meetings = int(rng.poisson(lam))
        deals = int(rng.binomial(meetings, deal_probability(
            p_deal, price_rise, close_response, referral_share, overload, service_failure)))
        p_sign = 1.0 / (1.0 + cycle_months)
        for _ in range(deals):
            month = t + int(rng.geometric(p_sign)) - 1  # geometric on {0, 1, ...}
            if month <= H:
                pipeline[month] = pipeline.get(month, 0) + 1

        # 5. churn of the n customers present at the start of the month
        h = churn_hazard(h0, visibility, care_share, overload, service_failure)
        h_renewal = 1.0 - (1.0 - h) ** contract_months
        factor = renewal_price_factor(price_escalator, concession, service_failure)
        stayed: list[Customer] = []
        churned = 0
        for c in customers:
            renews = (t - c.start) % contract_months == 0
            if run.churn_at_renewal:
                leaves = renews and rng.random() < h_renewal
            else:
                leaves = rng.random() < h
            if not leaves and renews and c.pending and p_rise_leave > 0:
                leaves = rng.random() < p_rise_leave  # the rise reaches him: he may leave
            if leaves:
                churned += 1
                continue
            if renews:
                c.price *= factor
                if c.pending:
                    c.price *= 1.0 + price_rise
                    c.pending = False
            stayed.append(c)
        customers = stayed

        # 6. signings
        aligning = run.alignment_enabled and t >= align_start
        new = pipeline.pop(t, 0)
        new_seats = 0
        for _ in range(new):
            seats = _draw_seats(rng, run.seats_ppf)
            customers.append(Customer(seats, price_per_seat * (1.0 + price_rise),
                                      onboarding_alignment(aligning, onboarding_score), t))
            new_seats += seats
        onboarding_seats = new_seats
        n_after = len(customers)

        # 7. alignment
        if run.alignment_enabled and t >= align_start:
            target = math.ceil(n_after / clients_per_staff)
            posted = sum(align_arrivals.values())
            if align_staff + posted < target and can_pay(cash, credit_limit, hire_cash_months,
                                               align_cost):
                align_arrivals[t + lag] = align_arrivals.get(t + lag, 0) + 1
            covered = clients_aligned(n_after, align_staff, staff_points, align_rate)
        else:
            covered = 0
        for k, c in enumerate(customers):  # in order of joining: longest-standing first
            if k < covered:
                c.alignment = min(1.0, c.alignment + align_rate)
            else:
                c.alignment = max(0.0, c.alignment - align_drift)

        # 8. revenue
        managed, cloud = mrr_parts()
        seats_total = total(c.seats for c in customers)
        projects = (projects_billed(legacy_projects + ongoing, bill_rate, project_share, unserved)
                    + onboarding_fee * new_seats)
        legacy_products = legacy_products0 * legacy_factor
        ms_products = product_spend / 12.0 * seats_total
        products = legacy_products + ms_products

        # 9. profit, tax and cash
        aligned_endpoints = endpoints_per_seat * total(c.seats * c.alignment for c in customers)
        gp_managed, gp_projects = gross_profit_by_line(managed, projects, techs, overtime_hours,
                                                       align_staff, project_share,
                                                       aligned_endpoints, finance)
        pretax = pretax_profit(managed, cloud, projects, legacy_products, ms_products,
                               gp_managed, gp_projects, techs, align_staff, managers, reps_paid,
                               n_after, cash, finance)
        if rep_waits:
            gross = (gp_managed + gp_projects + cloud + finance["margin_legacy"] * legacy_products
                     + finance["margin_ms"] * ms_products)
            rep_start = trigger_start(rep_start, rep_earliest, t, run.months,
                                      gross >= rep_multiple * reps * finance["rep_cost"])
        if align_waits:
            align_start = trigger_start(align_start, align_earliest, t, run.months,
                                        n_after >= align_clients)
        year_to_date += pretax
        tax = tax_due(t, year_to_date, tax_rate)
        if t % 12 == 0:
            year_to_date = 0.0
        cash += pretax - tax

        # 10. hiring (and letting go) of technicians; service managers
        techs_posted = sum(tech_arrivals.values())
        planned = techs + techs_posted
        overloaded = wants_technician(work, planned, tech_hours, hire_above)
        months_over = months_over + 1 if overloaded else 0
        if months_over >= hire_after and can_pay(cash, credit_limit, hire_cash_months, tech_cost):
            tech_arrivals[t + lag] = tech_arrivals.get(t + lag, 0) + 1
            planned += 1
            techs_posted += 1
        idle = wants_layoff(work, techs, techs_posted, tech_hours, layoff_below)
        months_under = months_under + 1 if idle else 0
        if months_under >= layoff_after:
            techs_leaving = 1
            planned -= 1
            months_under = 0
        if managers + sum(manager_arrivals.values()) < managers_wanted(
                planned, span, first_manager_at) and can_pay(
                cash, credit_limit, hire_cash_months, manager_cost):
            manager_arrivals[t + lag] = manager_arrivals.get(t + lag, 0) + 1

        record(t, mrr=managed + cloud, mrr_managed=managed, mrr_cloud=cloud,
               customers=n_after, seats=seats_total, meetings=meetings, new_customers=new,
               churned=churned, tickets=n_r + n_a, ticket_hours=ticket_hours,
               owner_sales_hours=selling, techs=techs, alignment_staff=align_staff,
               utilization=utilization, unserved_share=unserved_share,
               alignment_mean=(total(c.alignment for c in customers) / n_after
                               if n_after else 0.0),
               revenue_products=products, revenue_projects=projects,
               revenue_managed=managed, revenue_cloud=cloud, pretax_profit=pretax,
               cash=cash, managers=managers, tech_quits=quits, service_failure=service_failure,
               tax_paid=tax, owner_escalation_hours=esc_paid, owner_management_hours=mgmt_paid,
               owner_account_hours=care_paid, owner_overflow_hours=owner_overflow,
               project_hours=project_hours, work_hours=work, gross_profit_managed=gp_managed,
               gross_profit_projects=gp_projects, maintenance_debt=debt)
        if cash < -credit_limit:
            # Insolvent: the business closes; only the month's loss, tax and cash stay.
            keep = {"pretax_profit", "tax_paid", "cash"}
            for name in METRICS:
                if name not in keep:
                    out[_IDX[name], t:] = 0.0
            out[_IDX["pretax_profit"], t + 1:] = 0.0
            out[_IDX["tax_paid"], t + 1:] = 0.0
            out[_IDX["cash"], t + 1:] = cash
            fp = first_passage(out[_IDX["mrr"]], run.threshold_mrr, run.sustain_months)
            return out, fp, t

    fp = first_passage(out[_IDX["mrr"]], run.threshold_mrr, run.sustain_months)
    return out, fp, -1


def first_passage(mrr: np.ndarray, threshold: float, sustain: int) -> int:
    """Last month of the first run of ``sustain`` months with ``mrr >= threshold``; -1 if none."""
    streak = 0
    for t, value in enumerate(mrr):
        streak = streak + 1 if value >= threshold else 0
        if streak >= sustain:
            return t
    return -1


def simulate_reference(params: np.ndarray, seeds: np.ndarray,
                       run: RunInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference counterpart of ``simulator.engine.run_chunk``.

    Parameters
    ----------
    params : ndarray
        Structured per-path parameters (:func:`simulator.model.sampling.draw_parameters`).
    seeds : ndarray of uint64
        Month-level seeds (:func:`simulator.model.sampling.path_seeds`).
    run : RunInputs
        Run-level inputs (:func:`simulator.model.sampling.prepare`).

    Returns
    -------
    metrics : ndarray of float64, shape (n_paths, len(METRICS), months + 1)
        Path-major, as the engine's.
    first_passage : ndarray of int64, shape (n_paths,)
    insolvency_month : ndarray of int64, shape (n_paths,)
    """
    n_paths = len(params)
    metrics = np.zeros((n_paths, len(METRICS), run.months + 1), dtype=np.float64)
    passage = np.full(n_paths, -1, dtype=np.int64)
    insolvent = np.full(n_paths, -1, dtype=np.int64)
    for i in range(n_paths):
        metrics[i], passage[i], insolvent[i] = simulate_path(params[i], int(seeds[i]), run)
    return metrics, passage, insolvent
