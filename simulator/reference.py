"""Plain-Python reference model: docs/model.md, step by step, slowly and obviously.

This module is the yardstick the numba engine is tested against. It has the
engine's signature and output layout (:func:`simulate_reference` mirrors
``simulator.engine.run_chunk``) but none of its tricks: one Python object per
customer, one loop over months that follows the steps of docs/model.md in
order, and a ``numpy`` generator per path for the month-level draws. It does
not reproduce the engine's random streams (numba's generator differs from
numpy's), so engine and reference agree in distribution, and bit for bit only
where nothing is random.

Readings taken where docs/model.md leaves (or left) room; the first two are
now stated in its step 10:

- A hire (technician or alignment) posted in month ``t`` joins at step 1 of
  month ``t + max(hire_lag_months, 1)``; alignment hires use
  ``staff.hire_lag_months`` too.
- The cash rule of an alignment hire (step 7) looks at the cash on hand at
  step 7, i.e. the end of the previous month (this month's profit is booked at
  step 9); the technician rule (step 10) looks at the cash after step 9. The
  cost is that of the hire: ``hire_cash_months * staff_cost_per_month`` for an
  alignment manager, ``hire_cash_months * tech_cost_per_month`` for a
  technician.
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
from dataclasses import dataclass

import numpy as np

from .inputs import RunInputs, field_name
from .metrics import METRICS

__all__ = ["simulate_reference", "simulate_path"]

_IDX = {name: k for k, name in enumerate(METRICS)}


@dataclass
class Customer:
    """One managed-services customer."""

    seats: int
    price: float  # $/seat/month
    alignment: float  # score in [0, 1]
    start: int  # contract start month c_i


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


def total(values) -> float:
    """Left-to-right float sum (``sum`` is compensated from Python 3.12 on)."""
    acc = 0.0
    for v in values:
        acc += v
    return acc


def _draw_seats(rng: np.random.Generator, table: np.ndarray) -> int:
    return max(1, int(np.rint(_sample_table(table, rng.random()))))


def simulate_path(params, seed: int, run: RunInputs) -> tuple[np.ndarray, int]:
    """Simulate one path.

    Parameters
    ----------
    params : numpy.void
        One row of :func:`simulator.sampling.draw_parameters`.
    seed : int
        The path's month-level seed (:func:`simulator.sampling.path_seeds`).
    run : RunInputs
        Run-level inputs.

    Returns
    -------
    metrics : ndarray, shape (len(METRICS), months + 1)
    first_passage : int
        First month at which MRR has been at or above the threshold for
        ``sustain_months`` consecutive months (the last of them), -1 if never.
    """
    rng = np.random.default_rng(int(seed))
    H = run.months
    out = np.zeros((len(METRICS), H + 1), dtype=np.float64)

    # ---- parameters ------------------------------------------------------
    endpoints_per_seat = _p(params, "customers.endpoints_per_seat")
    price_per_seat = _p(params, "customers.price_per_seat")
    price_escalator = _p(params, "customers.price_escalator")
    contract_months = _i(params, "customers.contract_months")
    account_hours = _p(params, "customers.account_hours_per_month")
    cloud_per_seat = (_p(params, "cloud.adoption") * _p(params, "cloud.seat_price")
                      * _p(params, "cloud.commission_rate")
                      * (1.0 + _p(params, "cloud.attach_uplift")))
    meetings_per_month = _p(params, "sales.meetings_per_month")
    reps = _i(params, "sales.reps")
    rep_meetings = _p(params, "sales.rep_meetings_per_month")
    rep_cost = _p(params, "sales.rep_cost_per_month")
    p_deal = _p(params, "sales.proposal_rate") * _p(params, "sales.close_rate")
    cycle_months = _p(params, "sales.cycle_months")
    annual_churn = _p(params, "churn.annual_rate")
    visibility = _p(params, "churn.visibility_reduction")
    overload = _p(params, "churn.overload_sensitivity")
    r_R = _p(params, "tickets.per_endpoint_reactive")
    r_A = _p(params, "tickets.per_endpoint_aligned")
    h_R = _p(params, "tickets.hours_reactive")
    h_A = _p(params, "tickets.hours_aligned")
    tech_hours = _p(params, "staff.tech_hours_per_month")
    tech_cost = _p(params, "staff.tech_cost_per_month")
    hire_above = _p(params, "staff.hire_above")
    hire_lag = _i(params, "staff.hire_lag_months")
    hire_cash_months = _p(params, "staff.hire_cash_months")
    backlog_carry = _p(params, "staff.backlog_carry")
    owner_hours = _p(params, "staff.owner_hours_per_month")
    owner_sales = _p(params, "staff.owner_sales_hours_per_month")
    escalation_share = _p(params, "staff.escalation_share")
    mgmt_per_employee = _p(params, "staff.management_hours_per_employee")
    align_start = _i(params, "alignment.start_month")
    clients_per_staff = _p(params, "alignment.clients_per_staff")
    align_cost = _p(params, "alignment.staff_cost_per_month")
    align_rate = _p(params, "alignment.rate")
    align_drift = _p(params, "alignment.drift")
    onboarding_fee = _p(params, "projects.onboarding_fee_per_seat")
    projects_per_year = _p(params, "projects.per_customer_year")
    product_spend = _p(params, "projects.product_spend_per_seat_year")
    legacy_products0 = _p(params, "start.legacy_product_revenue")
    legacy_projects0 = _p(params, "start.legacy_project_revenue")
    decline = _p(params, "legacy.decline_annual")
    tools_share = _p(params, "finance.tools_share")
    project_margin = _p(params, "finance.project_margin")
    margin_ms = _p(params, "finance.product_margin_ms")
    margin_legacy = _p(params, "finance.product_margin_legacy")
    overhead = _p(params, "finance.overhead_per_month")
    lag = max(hire_lag, 1)  # lag 0: usable next month

    # ---- month 0 ---------------------------------------------------------
    customers: list[Customer] = []  # in order of joining the book
    for _ in range(_i(params, "start.customers")):
        seats = _draw_seats(rng, run.seats_ppf)
        start = 1 - int(rng.integers(1, contract_months + 1))  # 1 - U{1..contract_months}
        customers.append(Customer(seats, price_per_seat, _p(params, "start.alignment_score"),
                                  start))
    T = _i(params, "start.techs")
    A = 0
    backlog = 0.0
    cash = _p(params, "start.cash")
    tech_arrivals: dict[int, int] = {}  # month -> technicians arriving
    align_arrivals: dict[int, int] = {}  # month -> alignment staff arriving
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
           owner_sales_hours=owner_sales, techs=T, alignment_staff=A,
           alignment_mean=(total(c.alignment for c in customers) / len(customers)
                           if customers else 0.0),
           cash=cash)

    # ---- months 1..H -----------------------------------------------------
    h0 = 1.0 - (1.0 - annual_churn) ** (1.0 / 12.0)
    for t in range(1, H + 1):
        n = len(customers)

        # 1. arrivals of staff
        T += tech_arrivals.pop(t, 0)
        A += align_arrivals.pop(t, 0)
        if not run.alignment_enabled or t < align_start:
            A = 0
        A = min(A, math.ceil(n / clients_per_staff))

        # 2. tickets
        lam_R = r_R * endpoints_per_seat * total(c.seats * (1.0 - c.alignment) for c in customers)
        lam_A = r_A * endpoints_per_seat * total(c.seats * c.alignment for c in customers)
        N_R = int(rng.poisson(lam_R))
        N_A = int(rng.poisson(lam_A))
        X = N_R * h_R + N_A * h_A

        # 3. the owner's month
        rest = owner_hours
        E = escalation_share * (N_R * h_R)
        E_p = min(E, rest)
        rest -= E_p
        M = mgmt_per_employee * (T + A)
        rest -= min(M, rest)
        C = account_hours * n
        C_p = min(C, rest)
        rest -= C_p
        q = C_p / C if C > 0 else 1.0
        W = X - E_p + backlog
        K = T * tech_hours
        F = max(W - K, 0.0)
        F_o = min(F, rest)
        rest -= F_o
        S = min(rest, owner_sales)
        factor = S / owner_sales if owner_sales > 0 else 0.0
        U = F - F_o
        u = U / W if W > 0 else 0.0
        backlog = backlog_carry * U
        if W <= 0:
            utilization = 0.0
        elif K > 0:
            utilization = W / K
        else:
            utilization = W / 1.0

        # 4. meetings and the pipeline
        meetings = int(rng.poisson(meetings_per_month * factor + reps * rep_meetings))
        deals = int(rng.binomial(meetings, p_deal))
        p_sign = 1.0 / (1.0 + cycle_months)
        for _ in range(deals):
            month = t + int(rng.geometric(p_sign)) - 1  # geometric on {0, 1, ...}
            if month <= H:
                pipeline[month] = pipeline.get(month, 0) + 1

        # 5. churn of the n customers present at the start of the month
        h = min(1.0, h0 * (1.0 - visibility * q) * (1.0 + overload * u))
        h_renewal = 1.0 - (1.0 - h) ** contract_months
        stayed: list[Customer] = []
        churned = 0
        for c in customers:
            renews = (t - c.start) % contract_months == 0
            if run.churn_at_renewal:
                leaves = renews and rng.random() < h_renewal
            else:
                leaves = rng.random() < h
            if leaves:
                churned += 1
                continue
            if renews:
                c.price *= 1.0 + price_escalator
            stayed.append(c)
        customers = stayed

        # 6. signings
        new = pipeline.pop(t, 0)
        new_seats = 0
        for _ in range(new):
            seats = _draw_seats(rng, run.seats_ppf)
            customers.append(Customer(seats, price_per_seat, 0.0, t))
            new_seats += seats
        n_after = len(customers)

        # 7. alignment
        if run.alignment_enabled and t >= align_start:
            target = math.ceil(n_after / clients_per_staff)
            posted = sum(align_arrivals.values())
            if A + posted < target and cash >= hire_cash_months * align_cost:
                align_arrivals[t + lag] = align_arrivals.get(t + lag, 0) + 1
            covered = min(n_after, int(A * clients_per_staff))
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
        legacy_factor = math.exp(t / 12.0 * math.log1p(-decline)) if decline < 1.0 else 0.0
        legacy_projects = legacy_projects0 * legacy_factor
        n_projects = int(rng.poisson(n_after * (projects_per_year / 12.0)))
        ongoing = total(_sample_table(run.project_size_ppf, rng.random())
                        for _ in range(n_projects))
        projects = legacy_projects + onboarding_fee * new_seats + ongoing
        legacy_products = legacy_products0 * legacy_factor
        ms_products = product_spend / 12.0 * seats_total
        products = legacy_products + ms_products

        # 9. profit and cash
        gross = (managed * (1.0 - tools_share) - T * tech_cost - A * align_cost + cloud
                 + project_margin * projects + margin_legacy * legacy_products
                 + margin_ms * ms_products)
        pretax = gross - rep_cost * reps - overhead
        cash += pretax

        # 10. hiring of technicians
        P = sum(tech_arrivals.values())
        if T + P > 0:
            wants = W / ((T + P) * tech_hours) > hire_above
        else:
            wants = W > 0
        if wants and cash >= hire_cash_months * tech_cost:
            tech_arrivals[t + lag] = tech_arrivals.get(t + lag, 0) + 1

        record(t, mrr=managed + cloud, mrr_managed=managed, mrr_cloud=cloud,
               customers=n_after, seats=seats_total, meetings=meetings, new_customers=new,
               churned=churned, tickets=N_R + N_A, ticket_hours=X, owner_sales_hours=S,
               techs=T, alignment_staff=A, utilization=utilization, unserved_share=u,
               alignment_mean=(total(c.alignment for c in customers) / n_after
                               if n_after else 0.0),
               revenue_products=products, revenue_projects=projects,
               revenue_managed=managed, revenue_cloud=cloud, pretax_profit=pretax,
               cash=cash)

    return out, first_passage(out[_IDX["mrr"]], run.threshold_mrr, run.sustain_months)


def first_passage(mrr: np.ndarray, threshold: float, sustain: int) -> int:
    """Last month of the first run of ``sustain`` months with ``mrr >= threshold``; -1 if none."""
    streak = 0
    for t, value in enumerate(mrr):
        streak = streak + 1 if value >= threshold else 0
        if streak >= sustain:
            return t
    return -1


def simulate_reference(params: np.ndarray, seeds: np.ndarray,
                       run: RunInputs) -> tuple[np.ndarray, np.ndarray]:
    """Reference counterpart of ``simulator.engine.run_chunk``.

    Parameters
    ----------
    params : ndarray
        Structured per-path parameters (:func:`simulator.sampling.draw_parameters`).
    seeds : ndarray of uint64
        Month-level seeds (:func:`simulator.sampling.path_seeds`).
    run : RunInputs
        Run-level inputs (:func:`simulator.sampling.prepare`).

    Returns
    -------
    metrics : ndarray of float64, shape (n_paths, len(METRICS), months + 1)
        Path-major, as the engine's.
    first_passage : ndarray of int64, shape (n_paths,)
    """
    n_paths = len(params)
    metrics = np.zeros((n_paths, len(METRICS), run.months + 1), dtype=np.float64)
    passage = np.full(n_paths, -1, dtype=np.int64)
    for i in range(n_paths):
        metrics[i], passage[i] = simulate_path(params[i], int(seeds[i]), run)
    return metrics, passage
