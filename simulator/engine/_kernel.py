"""The compiled engine: one MSP path, month by month (docs/model.md).

Private: call :func:`simulator.engine.run_chunk`, which validates its inputs.
Each path owns a generator state (:mod:`simulator.engine._random`) seeded
from its own 64-bit seed at the start of the path, so a path's month-level
draws depend only on its seed, never on the thread that runs it or on the
other paths of the chunk.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit, jit_parallel, prange
from ._random import geometric0_log, poisson, randint, seed_state, uniform

# Output axis of the metrics array. simulator.metrics.METRICS states the same
# order (tests keep them in step); kept here so the cached kernel is rebuilt
# whenever the layout changes.
METRIC_NAMES = (
    "mrr", "mrr_managed", "mrr_cloud", "customers", "seats", "meetings",
    "new_customers", "churned", "tickets", "ticket_hours", "owner_sales_hours",
    "techs", "alignment_staff", "utilization", "unserved_share", "alignment_mean",
    "revenue_products", "revenue_projects", "revenue_managed", "revenue_cloud",
    "pretax_profit", "cash",
)
_MRR, _MRR_MANAGED, _MRR_CLOUD, _CUSTOMERS, _SEATS, _MEETINGS = 0, 1, 2, 3, 4, 5
_NEW, _CHURNED, _TICKETS, _TICKET_HOURS, _OWNER_SALES = 6, 7, 8, 9, 10
_TECHS, _ALIGN_STAFF, _UTIL, _UNSERVED, _ALIGN_MEAN = 11, 12, 13, 14, 15
_REV_PRODUCTS, _REV_PROJECTS, _REV_MANAGED, _REV_CLOUD, _PROFIT, _CASH = (
    16, 17, 18, 19, 20, 21)
N_METRICS = 22


@jit
def _draw_from_table(state, table):
    """One draw by inverse CDF from an equally spaced ``ppf`` table."""
    x = uniform(state) * (table.size - 1)
    i = int(x)
    if i >= table.size - 1:
        return table[table.size - 1]
    frac = x - i
    return table[i] + frac * (table[i + 1] - table[i])


@jit
def _draw_seats(state, table):
    s = _draw_from_table(state, table)
    s = float(np.rint(s))
    return s if s >= 1.0 else 1.0


@jit
def _grow(arr, n):
    out = np.empty(max(2 * arr.size, 16), dtype=arr.dtype)
    out[:n] = arr[:n]
    return out


@jit
def _renew(c, t, term, escalator, horizon, price, renew_at, renewals_due):
    """Customer ``c`` renews in month ``t``: escalate its price, book its next renewal."""
    price[c] *= 1.0 + escalator
    renew_at[c] = t + term
    if t + term <= horizon:
        renewals_due[t + term] += 1


@jit
def _simulate_path(p, seed, months, threshold, sustain, churn_at_renewal,
                   alignment_enabled, seats_ppf, size_ppf, out, i):
    state = np.empty(4, dtype=np.uint64)
    seed_state(state, seed)
    H = months

    # --- per-path parameters -------------------------------------------------
    n0 = int(p.start_customers)
    techs = int(p.start_techs)
    cash = p.start_cash
    legacy_products0 = p.start_legacy_product_revenue
    legacy_projects0 = p.start_legacy_project_revenue
    align0 = p.start_alignment_score
    meetings_rate = p.sales_meetings_per_month
    reps = int(p.sales_reps)
    rep_meetings = p.sales_rep_meetings_per_month
    rep_cost = p.sales_rep_cost_per_month
    deal_prob = p.sales_proposal_rate * p.sales_close_rate
    cycle = p.sales_cycle_months
    endpoints_per_seat = p.customers_endpoints_per_seat
    price0 = p.customers_price_per_seat
    escalator = p.customers_price_escalator
    term = max(int(p.customers_contract_months), 1)
    care_hours = p.customers_account_hours_per_month
    cloud_per_seat = (p.cloud_adoption * p.cloud_seat_price * p.cloud_commission_rate
                      * (1.0 + p.cloud_attach_uplift))
    annual = p.churn_annual_rate
    visibility = p.churn_visibility_reduction
    overload = p.churn_overload_sensitivity
    rate_r = p.tickets_per_endpoint_reactive
    rate_a = p.tickets_per_endpoint_aligned
    hours_r = p.tickets_hours_reactive
    hours_a = p.tickets_hours_aligned
    tech_hours = p.staff_tech_hours_per_month
    tech_cost = p.staff_tech_cost_per_month
    hire_above = p.staff_hire_above
    lag = max(int(p.staff_hire_lag_months), 1)
    hire_cash_months = p.staff_hire_cash_months
    carry = p.staff_backlog_carry
    owner_hours = p.staff_owner_hours_per_month
    owner_sales_max = p.staff_owner_sales_hours_per_month
    escalation_share = p.staff_escalation_share
    mgmt_hours = p.staff_management_hours_per_employee
    align_start = int(p.alignment_start_month)
    per_staff = p.alignment_clients_per_staff
    align_cost = p.alignment_staff_cost_per_month
    align_rate = p.alignment_rate
    align_drift = p.alignment_drift
    onboarding_fee = p.projects_onboarding_fee_per_seat
    projects_per_month = p.projects_per_customer_year / 12.0
    product_spend = p.projects_product_spend_per_seat_year / 12.0
    decline = p.legacy_decline_annual
    tools_share = p.finance_tools_share
    project_margin = p.finance_project_margin
    margin_ms = p.finance_product_margin_ms
    margin_legacy = p.finance_product_margin_legacy
    overhead = p.finance_overhead_per_month

    h0 = 1.0 - (1.0 - annual) ** (1.0 / 12.0)
    geo_p = 1.0 / (1.0 + cycle)
    log_geo_q = math.log1p(-geo_p) if geo_p < 1.0 else -math.inf  # months to close
    log_keep = math.log1p(-decline) if decline < 1.0 else 0.0  # legacy kept per year, log

    # --- customers (kept in signing order) ----------------------------------
    # A month costs O(events), not O(customers), where nothing per customer
    # changes: the book's sums (seats, managed MRR, seat-weighted alignment)
    # are carried from month to month and re-summed, left to right in signing
    # order, only when a customer leaves, a price changes or scores move.
    cap = max(16, 2 * n0)
    seats = np.empty(cap)
    price = np.empty(cap)
    align = np.empty(cap)
    renew_at = np.empty(cap, dtype=np.int64)
    # Churn by survival clocks (hazard mode): the path carries the product
    # survival = prod_s (1 - h_s); customer c leaves in the first month in
    # which survival falls to leave_at[c] = (survival when c joined) x U(0,1).
    # Given presence at the start of month s it leaves with probability h_s,
    # as in docs/model.md, and a month with no leaver costs one comparison.
    leave_at = np.empty(cap)
    survival = 1.0
    next_leave = -1.0  # the largest leave_at of the book (none yet)
    gone = np.zeros(cap, dtype=np.bool_)
    # renewals_due[t]: customers whose contract renews in month t (t <= H).
    renewals_due = np.zeros(H + 2, dtype=np.int64)
    n = n0
    for c in range(n0):
        seats[c] = _draw_seats(state, seats_ppf)
        price[c] = price0
        align[c] = align0
        renew_at[c] = 1 - randint(state, 1, term + 1) + term
        if renew_at[c] <= H:
            renewals_due[renew_at[c]] += 1
        if not churn_at_renewal:
            leave_at[c] = uniform(state)
            next_leave = max(next_leave, leave_at[c])

    pipeline = np.zeros(H + 2, dtype=np.int64)
    tech_arrivals = np.zeros(H + lag + 2, dtype=np.int64)
    align_arrivals = np.zeros(H + lag + 2, dtype=np.int64)
    techs_posted = 0
    align_staff = 0
    align_posted = 0
    backlog = 0.0
    renewals_matter = churn_at_renewal or escalator != 0.0
    scores_zero = align0 == 0.0  # every score is 0 and stays 0 without alignment

    # --- month 0 -------------------------------------------------------------
    seat_total = 0.0
    managed = 0.0
    align_sum = 0.0
    seats_unaligned = 0.0  # sum of s_i (1 - a_i)
    seats_aligned = 0.0  # sum of s_i a_i
    for c in range(n):
        seat_total += seats[c]
        managed += seats[c] * price[c]
        align_sum += align[c]
        seats_unaligned += seats[c] * (1.0 - align[c])
        seats_aligned += seats[c] * align[c]
    cloud = seat_total * cloud_per_seat
    o = out[i]  # this path's (metric, month) block
    for m in range(N_METRICS):
        o[m, 0] = 0.0
    o[_MRR, 0] = managed + cloud
    o[_MRR_MANAGED, 0] = managed
    o[_MRR_CLOUD, 0] = cloud
    o[_CUSTOMERS, 0] = n
    o[_SEATS, 0] = seat_total
    o[_OWNER_SALES, 0] = owner_sales_max
    o[_TECHS, 0] = techs
    o[_ALIGN_MEAN, 0] = align_sum / n if n > 0 else 0.0
    o[_CASH, 0] = cash

    for t in range(1, H + 1):
        # 1. staff arrivals; alignment staff follow the client count
        techs += tech_arrivals[t]
        techs_posted -= tech_arrivals[t]
        align_staff += align_arrivals[t]
        align_posted -= align_arrivals[t]
        aligning = alignment_enabled and t >= align_start
        if not aligning:
            align_staff = 0
        else:
            need = int(math.ceil(n / per_staff))
            if align_staff > need:
                align_staff = need

        # 2. tickets (rates blend with the seat-weighted alignment of the book)
        lam_r = rate_r * endpoints_per_seat * seats_unaligned
        lam_a = rate_a * endpoints_per_seat * seats_aligned
        n_r = poisson(state, lam_r) if lam_r > 0.0 else 0
        n_a = poisson(state, lam_a) if lam_a > 0.0 else 0
        hours_reactive = n_r * hours_r
        ticket_hours = hours_reactive + n_a * hours_a

        # 3. the owner's month
        rest = owner_hours
        esc = escalation_share * hours_reactive
        esc_paid = min(esc, rest)
        rest -= esc_paid
        mgmt = mgmt_hours * (techs + align_staff)
        rest -= min(mgmt, rest)
        care = care_hours * n
        care_paid = min(care, rest)
        rest -= care_paid
        care_share = care_paid / care if care > 0.0 else 1.0
        work = ticket_hours - esc_paid + backlog
        capacity = techs * tech_hours
        overflow = work - capacity if work > capacity else 0.0
        owner_overflow = min(overflow, rest)
        rest -= owner_overflow
        unserved = overflow - owner_overflow
        unserved_share = unserved / work if work > 0.0 else 0.0
        backlog = carry * unserved
        selling = min(rest, owner_sales_max)
        factor = selling / owner_sales_max if owner_sales_max > 0.0 else 0.0
        if work > 0.0:
            utilization = work / capacity if capacity > 0.0 else work
        else:
            utilization = 0.0

        # 4. meetings and the pipeline
        lam_m = meetings_rate * factor + reps * rep_meetings
        meetings = poisson(state, lam_m) if lam_m > 0.0 else 0
        for _ in range(meetings):  # each meeting is a deal with probability deal_prob
            if uniform(state) < deal_prob:
                d = geometric0_log(state, log_geo_q) if geo_p < 1.0 else 0
                if t + d <= H:
                    pipeline[t + d] += 1

        # 5. churn of the customers present at the start of the month
        h = h0 * (1.0 - visibility * care_share) * (1.0 + overload * unserved_share)
        if h > 1.0:
            h = 1.0
        churned = 0
        renewing = renewals_matter and renewals_due[t] > 0
        leaving = False  # someone leaves this month: the book is compacted below
        if churn_at_renewal:
            p_renew = 1.0 - (1.0 - h) ** term
            for c in range(n if renewing else 0):
                if renew_at[c] == t:
                    if uniform(state) < p_renew:
                        gone[c] = True
                        leaving = True
        else:
            survival = survival * (1.0 - h) if h < 1.0 else 0.0
            if survival <= next_leave:
                # customer c leaves when survival <= leave_at[c]; marked in the pass below
                leaving = True
        if leaving:
            # Leavers are dropped (stayers who renew get the escalator); the
            # book's sums are re-summed in signing order.
            k = 0
            next_leave = -1.0
            seat_total = 0.0
            managed = 0.0
            seats_unaligned = 0.0
            seats_aligned = 0.0
            # (each customer's fields are read into locals once, as the
            # arrays may alias as far as the compiler knows: with that and a
            # comparison instead of max(), a micro-benchmark of this loop over
            # 23 customers went from ~150 to ~40 ns)
            for c in range(n):
                renews = renew_at[c]
                clock = leave_at[c]
                if gone[c] or (not churn_at_renewal and survival <= clock):
                    gone[c] = False
                    churned += 1
                    if renews > t and renews <= H:
                        renewals_due[renews] -= 1
                    continue
                if renews == t:
                    _renew(c, t, term, escalator, H, price, renew_at, renewals_due)
                    renews = renew_at[c]
                s_c = seats[c]
                p_c = price[c]
                a_c = align[c]
                if k < c:
                    seats[k] = s_c
                    price[k] = p_c
                    align[k] = a_c
                    renew_at[k] = renews
                    leave_at[k] = clock
                if clock > next_leave:
                    next_leave = clock
                seat_total += s_c
                managed += s_c * p_c
                seats_unaligned += s_c * (1.0 - a_c)
                seats_aligned += s_c * a_c
                k += 1
            n = k
        elif renewing:
            # Nobody left: renewing customers get the escalator, MRR re-summed.
            managed = 0.0
            for c in range(n):
                if renew_at[c] == t:
                    _renew(c, t, term, escalator, H, price, renew_at, renewals_due)
                managed += seats[c] * price[c]  # (no stores between: no reloads)
        if not churn_at_renewal and survival < 1e-250:
            # Rescale before underflow (the clocks only compare ratios);
            # after h = 1 nobody is left and the product starts afresh.
            scale = 1.0 / survival if survival > 0.0 else 0.0
            survival = survival * scale if survival > 0.0 else 1.0
            next_leave *= scale
            for c in range(n):
                leave_at[c] *= scale

        # 6. signings (appended: the running sums stay left-to-right sums)
        new = pipeline[t]
        new_seats = 0.0
        for _ in range(new):
            if n >= seats.size:
                seats = _grow(seats, n)
                price = _grow(price, n)
                align = _grow(align, n)
                renew_at = _grow(renew_at, n)
                leave_at = _grow(leave_at, n)
                gone = np.zeros(seats.size, dtype=np.bool_)
            s = _draw_seats(state, seats_ppf)
            seats[n] = s
            price[n] = price0
            align[n] = 0.0
            renew_at[n] = t + term
            if t + term <= H:
                renewals_due[t + term] += 1
            if not churn_at_renewal:
                leave_at[n] = survival * uniform(state)
                next_leave = max(next_leave, leave_at[n])
            new_seats += s
            seat_total += s
            managed += s * price0
            seats_unaligned += s
            n += 1

        # 7. alignment
        if aligning:
            need = int(math.ceil(n / per_staff))
            if align_staff + align_posted < need and cash >= hire_cash_months * align_cost:
                align_posted += 1
                align_arrivals[t + lag] += 1
            covered = min(n, int(align_staff * per_staff))
        else:
            covered = 0
        if aligning or not scores_zero:
            align_sum = 0.0
            seats_unaligned = 0.0
            seats_aligned = 0.0
            for c in range(n):
                if c < covered:
                    a_c = min(1.0, align[c] + align_rate)
                else:
                    a_c = max(0.0, align[c] - align_drift)
                align[c] = a_c
                s_c = seats[c]
                align_sum += a_c
                seats_unaligned += s_c * (1.0 - a_c)
                seats_aligned += s_c * a_c
            scores_zero = align_sum == 0.0
        else:
            align_sum = 0.0

        # 8. revenue
        cloud = seat_total * cloud_per_seat
        if (legacy_products0 > 0.0 or legacy_projects0 > 0.0) and decline < 1.0:
            legacy_factor = math.exp(t / 12.0 * log_keep)  # (1 - d)^(t/12)
        else:
            legacy_factor = 0.0
        legacy_products = legacy_products0 * legacy_factor
        legacy_projects = legacy_projects0 * legacy_factor
        n_projects = poisson(state, n * projects_per_month)
        ongoing = 0.0
        for _ in range(n_projects):
            ongoing += _draw_from_table(state, size_ppf)
        projects = legacy_projects + onboarding_fee * new_seats + ongoing
        products_ms = product_spend * seat_total
        products = legacy_products + products_ms

        # 9. profit and cash
        gross = (managed * (1.0 - tools_share) - techs * tech_cost - align_staff * align_cost
                 + cloud + project_margin * projects + margin_legacy * legacy_products
                 + margin_ms * products_ms)
        profit = gross - reps * rep_cost - overhead
        cash += profit

        # 10. hiring of technicians
        planned = techs + techs_posted
        if planned > 0:
            wants = work / (planned * tech_hours) > hire_above
        else:
            wants = work > 0.0
        if wants and cash >= hire_cash_months * tech_cost:
            techs_posted += 1
            tech_arrivals[t + lag] += 1

        o[_MRR, t] = managed + cloud
        o[_MRR_MANAGED, t] = managed
        o[_MRR_CLOUD, t] = cloud
        o[_CUSTOMERS, t] = n
        o[_SEATS, t] = seat_total
        o[_MEETINGS, t] = meetings
        o[_NEW, t] = new
        o[_CHURNED, t] = churned
        o[_TICKETS, t] = n_r + n_a
        o[_TICKET_HOURS, t] = ticket_hours
        o[_OWNER_SALES, t] = selling
        o[_TECHS, t] = techs
        o[_ALIGN_STAFF, t] = align_staff
        o[_UTIL, t] = utilization
        o[_UNSERVED, t] = unserved_share
        o[_ALIGN_MEAN, t] = align_sum / n if n > 0 else 0.0
        o[_REV_PRODUCTS, t] = products
        o[_REV_PROJECTS, t] = projects
        o[_REV_MANAGED, t] = managed
        o[_REV_CLOUD, t] = cloud
        o[_PROFIT, t] = profit
        o[_CASH, t] = cash


@jit
def _first_passage(mrr, threshold, sustain):
    run = 0
    for t in range(mrr.size):
        if mrr[t] >= threshold:
            run += 1
            if run >= sustain:
                return t
        else:
            run = 0
    return -1


@jit_parallel
def _run_paths(params, seeds, months, threshold, sustain, churn_at_renewal,
               alignment_enabled, seats_ppf, size_ppf, out, first_passage):
    for i in prange(params.size):
        _simulate_path(params[i], seeds[i], months, threshold, sustain, churn_at_renewal,
                       alignment_enabled, seats_ppf, size_ppf, out, i)
        first_passage[i] = _first_passage(out[i, _MRR], threshold, sustain)
