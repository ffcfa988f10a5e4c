"""The compiled engine: one MSP path, month by month (docs/model.md).

Private: call :func:`simulator.engine.run_chunk`, which validates its inputs.
Each mechanism of docs/model.md is one small ``@jit`` function of
:mod:`simulator.engine._mechanisms`, named as in the docs and as its twin in
:mod:`simulator.model.reference`; the path loop (:func:`_simulate_path`) calls
them in the month's order. Each path owns a
generator state (:mod:`simulator.engine._random`) seeded from its own 64-bit
seed at the start of the path, so a path's month-level draws depend only on
its seed, never on the thread that runs it or on the other paths of the chunk.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit
from ._mechanisms import (
    can_pay,
    churn_hazard,
    clients_aligned,
    deal_probability,
    draw_from_table,
    draw_seats,
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
    price_close_factor,
    projects_billed,
    quit_probability,
    renewal_price_factor,
    renewed_price,
    reps_on_payroll,
    service_felt,
    staff_turnover,
    tax_due,
    tickets_month,
    trigger_start,
    wants_layoff,
    wants_technician,
)
from ._random import (
    geometric0_log,
    poisson_given,
    poisson_p0,
    randint,
    seed_state,
    uniform,
)

# Output axis of the metrics array. simulator.model.metrics.METRICS states the same
# order (tests keep them in step); kept here so the cached kernel is rebuilt
# whenever the layout changes.
METRIC_NAMES = (
    "mrr", "mrr_managed", "mrr_cloud", "customers", "seats", "meetings",
    "new_customers", "churned", "tickets", "ticket_hours", "owner_sales_hours",
    "techs", "alignment_staff", "utilization", "unserved_share", "alignment_mean",
    "revenue_products", "revenue_projects", "revenue_managed", "revenue_cloud",
    "pretax_profit", "cash", "managers", "tech_quits", "service_failure", "tax_paid",
    "owner_escalation_hours", "owner_management_hours", "owner_account_hours",
    "owner_overflow_hours", "project_hours", "work_hours", "gross_profit_managed",
    "gross_profit_projects", "maintenance_debt",
)
_MRR, _MRR_MANAGED, _MRR_CLOUD, _CUSTOMERS, _SEATS, _MEETINGS = 0, 1, 2, 3, 4, 5
_NEW, _CHURNED, _TICKETS, _TICKET_HOURS, _OWNER_SALES = 6, 7, 8, 9, 10
_TECHS, _ALIGN_STAFF, _UTIL, _UNSERVED, _ALIGN_MEAN = 11, 12, 13, 14, 15
_REV_PRODUCTS, _REV_PROJECTS, _REV_MANAGED, _REV_CLOUD, _PROFIT, _CASH = (
    16, 17, 18, 19, 20, 21)
_MANAGERS, _QUITS, _SERVICE_FAILURE, _TAX = 22, 23, 24, 25
_OWNER_ESC, _OWNER_MGMT, _OWNER_CARE, _OWNER_OVERFLOW = 26, 27, 28, 29
_PROJECT_HOURS, _WORK_HOURS, _GP_MANAGED, _GP_PROJECTS = 30, 31, 32, 33
_DEBT = 34
N_METRICS = 35


# --- the path loop --------------------------------------------------------------

@jit
def _grow(arr, n):
    out = np.empty(max(2 * arr.size, 16), dtype=arr.dtype)
    # an element loop, not ``out[:n] = arr[:n]``: slice assignment alone cost
    # ~2 s of the engine's first compile (benchmarks/RESULTS.md)
    for k in range(n):
        out[k] = arr[k]
    return out


@jit
def _simulate_path(p, seed, months, churn_at_renewal, alignment_enabled, seats_ppf, size_ppf,
                   book, o):
    """One path into ``o[month, metric]`` (``(months + 1, N_METRICS)``, each month's
    metrics one contiguous row); returns its insolvency month (-1 if never)."""
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
    reps = int(p.sales_reps)
    rep_start = int(p.sales_rep_start_month)
    rep_earliest = rep_start
    rep_multiple = p.sales_rep_hire_margin_multiple
    rep_waits = rep_multiple > 0.0 and reps > 0  # the reps start by the trigger rule
    if rep_waits:
        rep_start = H + 1
    rep_meetings = p.sales_rep_meetings_per_month * p.sales_rep_productivity
    deal_prob = p.sales_proposal_rate * p.sales_close_rate
    cycle = p.sales_cycle_months
    endpoints_per_seat = p.customers_endpoints_per_seat
    price0 = p.customers_price_per_seat
    escalator = p.customers_price_escalator
    rise = p.customers_price_rise
    concession = p.customers_renewal_concession
    p_rise_leave = p.churn_price_rise_response * rise if rise > 0.0 else 0.0
    if p_rise_leave > 1.0:
        p_rise_leave = 1.0
    price_new = price0 * (1.0 + rise)  # new clients pay the new price from month 1
    term = max(int(p.customers_contract_months), 1)
    care_hours = p.customers_account_hours_per_month
    onboarding_hours = p.customers_onboarding_hours_per_seat
    cloud_per_seat = (p.cloud_adoption * p.cloud_seat_price * p.cloud_commission_rate
                      * (1.0 + p.cloud_attach_uplift))
    visibility = p.churn_visibility_reduction
    overload = p.churn_overload_sensitivity
    memory = p.churn_service_memory_months
    rate_r = p.tickets_per_endpoint_reactive
    rate_a = p.tickets_per_endpoint_aligned
    hours_r = p.tickets_hours_reactive
    hours_a = p.tickets_hours_aligned
    proactive = p.tickets_proactive_hours_per_endpoint
    proactive_aligned = p.tickets_proactive_hours_aligned
    debt = p.start_maintenance_debt  # maintenance debt: the estate's neglected share
    debt_months = p.tickets_maintenance_debt_months
    uplift = p.tickets_neglect_ticket_uplift
    tech_hours = p.staff_tech_hours_per_month
    tech_cost = p.staff_tech_cost_per_month
    lag = max(int(p.staff_hire_lag_months), 1)
    hire_cash_months = p.staff_hire_cash_months
    carry = p.staff_backlog_carry
    mgmt_hours = p.staff_management_hours_per_employee
    span = p.staff_techs_per_manager
    align_start = int(p.alignment_start_month)
    align_earliest = align_start
    align_clients = int(p.alignment_start_clients)
    align_waits = align_clients > 0 and alignment_enabled  # starts by the trigger rule
    if align_waits:
        align_start = H + 1
    per_staff = p.alignment_clients_per_staff
    onboarding_score = p.alignment_onboarding_score
    align_cost = p.alignment_staff_cost_per_month
    onboarding_fee = p.projects_onboarding_fee_per_seat
    projects_per_month = p.projects_per_customer_year / 12.0
    product_spend = p.projects_product_spend_per_seat_year / 12.0
    bill_rate = p.projects_bill_rate_per_hour
    decline = p.legacy_decline_annual
    credit_limit = p.finance_credit_limit

    h0 = 1.0 - (1.0 - p.churn_annual_rate) ** (1.0 / 12.0)
    quit_base = 1.0 - (1.0 - p.staff_tech_turnover_annual) ** (1.0 / 12.0)
    geo_p = 1.0 / (1.0 + cycle)
    log_geo_q = math.log1p(-geo_p) if geo_p < 1.0 else -math.inf  # months to close
    log_keep = math.log1p(-decline) if decline < 1.0 else 0.0  # legacy kept per year, log
    price_factor = price_close_factor(rise, p.sales_price_close_response)
    # What the month's samplers need beside their parameters (an ``exp``, a ``log1p``),
    # kept while the parameters repeat: the team and its quit probability, the
    # project and meeting means (same draws as computed afresh)
    quit_n = -1
    quit_q = -1.0
    quit_p0 = -1.0
    project_lam = -1.0
    project_p0 = 0.0
    meeting_lam = -1.0
    meeting_p0 = 0.0

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
    pending = np.zeros(cap, dtype=np.bool_)  # today's book: the price rise waits for renewal
    # renewals_due[t]: customers whose contract renews in month t (t <= H).
    renewals_due = np.zeros(H + 2, dtype=np.int64)
    n = n0
    for c in range(n0):
        align[c] = align0
        pending[c] = rise != 0.0
        if c < book.shape[0]:  # today's book, exactly: its seats, fees and contracts
            seats[c] = book[c, 0]
            price[c] = book[c, 1]
            renew_at[c] = term - int(book[c, 2]) % term
        else:
            seats[c] = draw_seats(state, seats_ppf)
            price[c] = price0
            renew_at[c] = 1 - randint(state, 1, term + 1) + term
        if renew_at[c] <= H:
            renewals_due[renew_at[c]] += 1
        if not churn_at_renewal:
            leave_at[c] = uniform(state)
            next_leave = max(next_leave, leave_at[c])

    book_pending = n0 if rise != 0.0 else 0  # clients of today's book still at the old price
    pipeline = np.zeros(H + 2, dtype=np.int64)
    tech_arrivals = np.zeros(H + lag + 2, dtype=np.int64)
    align_arrivals = np.zeros(H + lag + 2, dtype=np.int64)
    manager_arrivals = np.zeros(H + lag + 2, dtype=np.int64)
    techs_posted = 0
    techs_leaving = 0  # laid off at the end of last month
    months_over = 0  # consecutive months above hire_above
    months_under = 0  # consecutive months below layoff_below
    hire_after = int(p.staff_hire_after_months)
    layoff_after = int(p.staff_layoff_after_months)
    align_staff = 0
    align_posted = 0
    managers = int(p.start_managers)
    managers_posted = 0
    backlog = 0.0
    service_failure = 0.0
    utilization = 0.0
    year_to_date = 0.0
    onboarding_seats = 0.0  # seats signed last month: onboarded this month
    renewals_matter = (churn_at_renewal or escalator != 0.0 or concession != 0.0
                       or rise != 0.0)
    escalation_r = p.staff_escalation_share
    escalation_a = p.staff_escalation_share_aligned
    lead_techs = p.staff_escalation_lead_techs
    tiered_saving = p.tickets_tiered_desk_saving
    owner_share_led = p.staff_owner_escalation_share_led
    fatigue = p.staff_overtime_fatigue
    overtime_run = 0  # consecutive months of overtime before this one
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
    row = o[0]  # month 0 of this path's (month, metric) block, written in order
    for m in range(N_METRICS):
        row[m] = 0.0
    row[_MRR] = managed + cloud
    row[_MRR_MANAGED] = managed
    row[_MRR_CLOUD] = cloud
    row[_CUSTOMERS] = n
    row[_SEATS] = seat_total
    row[_OWNER_SALES] = p.staff_owner_sales_hours_per_month
    row[_TECHS] = techs
    row[_ALIGN_MEAN] = align_sum / n if n > 0 else 0.0
    row[_CASH] = cash
    row[_DEBT] = debt

    for t in range(1, H + 1):
        # 1. staff: arrivals, quits; alignment staff follow the client count
        techs += tech_arrivals[t] - techs_leaving
        techs_posted -= tech_arrivals[t]
        techs_leaving = 0
        managers += manager_arrivals[t]
        managers_posted -= manager_arrivals[t]
        align_staff += align_arrivals[t]
        align_posted -= align_arrivals[t]
        q = quit_probability(quit_base, p.staff_turnover_overload, utilization)
        if techs != quit_n or q != quit_q:
            quit_n = techs
            quit_q = q
            quit_p0 = -1.0  # P(0) of the new team and q: computed when a draw needs it
        quits, quit_p0 = staff_turnover(state, techs, q, quit_p0)
        techs -= quits
        aligning = alignment_enabled and t >= align_start
        if not aligning:
            align_staff = 0
        else:
            need = int(math.ceil(n / per_staff))
            if align_staff > need:
                align_staff = need
        reps_paid = reps_on_payroll(reps, rep_start, t, p.sales_rep_ramp_months,
                                    p.sales_rep_review_months, p.sales_rep_productivity,
                                    p.sales_rep_fire_below)  # fired reps cost nothing

        # 2. tickets and the rest of the technicians' work
        n_r, n_a = tickets_month(state, rate_r, rate_a, endpoints_per_seat, seats_unaligned,
                                 seats_aligned, 1.0 + uplift * debt)
        tiered = techs >= lead_techs  # a lead and a tiered desk: faster first-line fixes
        speed = 1.0 - tiered_saving if tiered else 1.0
        hours_reactive = n_r * (hours_r * speed)
        hours_aligned = n_a * hours_a  # seed 004's aligned time is already a top desk's
        ticket_hours = hours_reactive + hours_aligned
        if (legacy_products0 > 0.0 or legacy_projects0 > 0.0) and decline < 1.0:
            legacy_factor = math.exp(t / 12.0 * log_keep)  # (1 - d)^(t/12)
        else:
            legacy_factor = 0.0
        legacy_projects = legacy_projects0 * legacy_factor
        lam_p = n * projects_per_month
        if lam_p != project_lam:
            project_lam = lam_p
            project_p0 = poisson_p0(lam_p)
        n_projects = poisson_given(state, lam_p, project_p0)
        ongoing = 0.0
        for _ in range(n_projects):
            ongoing += draw_from_table(state, size_ppf)
        project_hours = ((legacy_projects + ongoing) / bill_rate
                         + onboarding_hours * onboarding_seats)
        maintenance = maintenance_hours(proactive, proactive_aligned, endpoints_per_seat,
                                        seats_unaligned, seats_aligned)
        demand = ticket_hours + backlog + maintenance + project_hours
        project_share = project_hours / demand if demand > 0.0 else 0.0

        # 3. the owner's month
        directs = techs - min(techs, int(managers * span)) + align_staff + managers + reps_paid
        care = care_hours * n
        capacity = techs * tech_hours
        stretch = capacity * p.staff_overtime_max_share
        efficiency = overtime_efficiency(overtime_run, fatigue)
        (esc_paid, mgmt_paid, care_paid, work, owner_overflow, unserved,
         selling) = owners_month(
            p.staff_owner_hours_per_month, p.staff_owner_sales_hours_per_month,
            escalation_hours(hours_reactive, hours_aligned, escalation_r, escalation_a, techs,
                             lead_techs, owner_share_led),
            mgmt_hours * directs, care, demand, capacity + efficiency * stretch)
        overtime_hours = overtime_worked(work, capacity, stretch, efficiency)
        overtime_run = overtime_run + 1 if overtime_hours > 0.0 else 0
        care_share = care_paid / care if care > 0.0 else 1.0
        unserved_share = unserved / work if work > 0.0 else 0.0
        backlog = carry * unserved
        debt = maintenance_debt(debt, maintenance, unserved, debt_months)
        felt = service_felt(unserved_share, overtime_hours, work, p.churn_strain_weight)
        service_failure += (felt - service_failure) / memory
        utilization = work / capacity if capacity > 0.0 and work > 0.0 else 0.0

        # 4. meetings and the pipeline
        lam_m = meeting_rate(p.sales_meetings_per_selling_hour, selling, reps_paid,
                             rep_meetings, rep_start, p.sales_rep_ramp_months, t)
        if lam_m != meeting_lam:
            meeting_lam = lam_m
            meeting_p0 = poisson_p0(lam_m)
        meetings = poisson_given(state, lam_m, meeting_p0) if lam_m > 0.0 else 0
        deal_p = deal_probability(deal_prob, price_factor, p.sales_referral_share, overload,
                                  service_failure)
        for _ in range(meetings):  # each meeting is a deal with probability deal_p
            if uniform(state) < deal_p:
                d = geometric0_log(state, log_geo_q) if geo_p < 1.0 else 0
                if t + d <= H:
                    pipeline[t + d] += 1

        # 5. churn of the customers present at the start of the month
        h = churn_hazard(h0, visibility, care_share, overload, service_failure)
        churned = 0
        renewing = renewals_matter and renewals_due[t] > 0
        leaving = False  # someone leaves this month: the book is compacted below
        factor = renewal_price_factor(escalator, concession, service_failure)
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
        if renewing and p_rise_leave > 0.0 and book_pending > 0:
            # the rise reaches today's book at renewal: some clients leave over it
            for c in range(n):
                if renew_at[c] == t and pending[c] and not gone[c]:
                    if uniform(state) < p_rise_leave:
                        gone[c] = True
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
                    if pending[c]:
                        book_pending -= 1
                    pending[c] = False
                    churned += 1
                    if renews > t and renews <= H:
                        renewals_due[renews] -= 1
                    continue
                if renews == t:
                    if pending[c]:
                        book_pending -= 1
                    price[c] = renewed_price(price[c], pending[c], factor, rise)
                    pending[c] = False
                    renews = t + term  # the next renewal, booked
                    renew_at[c] = renews
                    if renews <= H:
                        renewals_due[renews] += 1
                s_c = seats[c]
                p_c = price[c]
                a_c = align[c]
                if k < c:
                    seats[k] = s_c
                    price[k] = p_c
                    align[k] = a_c
                    pending[k] = pending[c]
                    pending[c] = False
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
                    if pending[c]:
                        book_pending -= 1
                    price[c] = renewed_price(price[c], pending[c], factor, rise)
                    pending[c] = False
                    renew_at[c] = t + term  # the next renewal, booked
                    if t + term <= H:
                        renewals_due[t + term] += 1
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
                pending = _grow(pending, n)
                gone = np.zeros(seats.size, dtype=np.bool_)
            s = draw_seats(state, seats_ppf)
            seats[n] = s
            price[n] = price_new
            a_new = onboarding_alignment(aligning, onboarding_score)
            align[n] = a_new
            pending[n] = False
            renew_at[n] = t + term
            if t + term <= H:
                renewals_due[t + term] += 1
            if not churn_at_renewal:
                leave_at[n] = survival * uniform(state)
                next_leave = max(next_leave, leave_at[n])
            new_seats += s
            seat_total += s
            managed += s * price_new
            seats_unaligned += s * (1.0 - a_new)
            seats_aligned += s * a_new
            n += 1
        onboarding_seats = new_seats

        # 7. alignment
        if aligning:
            need = int(math.ceil(n / per_staff))
            if (align_staff + align_posted < need
                    and can_pay(cash, credit_limit, hire_cash_months, align_cost)):
                align_posted += 1
                align_arrivals[t + lag] += 1
            covered = clients_aligned(n, align_staff, p.alignment_staff_points_per_month,
                                      p.alignment_rate)
        else:
            covered = 0
        if aligning or not scores_zero:
            align_sum = 0.0
            seats_unaligned = 0.0
            seats_aligned = 0.0
            for c in range(n):
                if c < covered:
                    a_c = min(1.0, align[c] + p.alignment_rate)
                else:
                    a_c = max(0.0, align[c] - p.alignment_drift)
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
        legacy_products = legacy_products0 * legacy_factor
        projects = (projects_billed(legacy_projects + ongoing, bill_rate, project_share,
                                    unserved) + onboarding_fee * new_seats)
        products_ms = product_spend * seat_total
        products = legacy_products + products_ms

        # 9. profit, tax and cash
        gp_managed, gp_projects = gross_profit_by_line(managed, projects, techs, overtime_hours,
                                                       align_staff, project_share,
                                                       endpoints_per_seat * seats_aligned, p)
        profit = pretax_profit(managed, cloud, projects, legacy_products, products_ms,
                               gp_managed, gp_projects, techs, align_staff, managers, reps_paid,
                               n, cash, p)
        if rep_waits and rep_start > H:
            gross = (gp_managed + gp_projects + cloud
                     + p.finance_product_margin_legacy * legacy_products
                     + p.finance_product_margin_ms * products_ms)
            rep_start = trigger_start(rep_start, rep_earliest, t, H, gross >= rep_multiple
                                      * reps * p.sales_rep_cost_per_month)
        if align_waits and align_start > H:
            align_start = trigger_start(align_start, align_earliest, t, H,
                                        n >= align_clients)
        year_to_date += profit
        tax = tax_due(t, year_to_date, p.finance_tax_rate)
        if t % 12 == 0:
            year_to_date = 0.0
        cash += profit - tax

        # 10. hiring (and letting go) of technicians; service managers
        planned = techs + techs_posted
        months_over = (months_over + 1
                       if wants_technician(work, planned, tech_hours, p.staff_hire_above) else 0)
        if months_over >= hire_after and can_pay(cash, credit_limit, hire_cash_months,
                                                 tech_cost):
            techs_posted += 1
            tech_arrivals[t + lag] += 1
            planned += 1
        months_under = (months_under + 1
                        if wants_layoff(work, techs, techs_posted, tech_hours,
                                        p.staff_layoff_below) else 0)
        if months_under >= layoff_after:
            techs_leaving = 1
            planned -= 1
            months_under = 0
        if (managers + managers_posted < managers_wanted(planned, span,
                                                         int(p.staff_first_manager_at_techs))
                and can_pay(cash, credit_limit, hire_cash_months,
                            p.staff_manager_cost_per_month)):
            managers_posted += 1
            manager_arrivals[t + lag] += 1

        insolvent = cash < -credit_limit
        row = o[t]  # the month's metrics: one contiguous row
        row[_MRR] = managed + cloud
        row[_MRR_MANAGED] = managed
        row[_MRR_CLOUD] = cloud
        row[_CUSTOMERS] = n
        row[_SEATS] = seat_total
        row[_MEETINGS] = meetings
        row[_NEW] = new
        row[_CHURNED] = churned
        row[_TICKETS] = n_r + n_a
        row[_TICKET_HOURS] = ticket_hours
        row[_OWNER_SALES] = selling
        row[_TECHS] = techs
        row[_ALIGN_STAFF] = align_staff
        row[_UTIL] = utilization
        row[_UNSERVED] = unserved_share
        row[_ALIGN_MEAN] = align_sum / n if n > 0 else 0.0
        row[_REV_PRODUCTS] = products
        row[_REV_PROJECTS] = projects
        row[_REV_MANAGED] = managed
        row[_REV_CLOUD] = cloud
        row[_PROFIT] = profit
        row[_CASH] = cash
        row[_MANAGERS] = managers
        row[_QUITS] = quits
        row[_SERVICE_FAILURE] = service_failure
        row[_TAX] = tax
        row[_OWNER_ESC] = esc_paid
        row[_OWNER_MGMT] = mgmt_paid
        row[_OWNER_CARE] = care_paid
        row[_OWNER_OVERFLOW] = owner_overflow
        row[_PROJECT_HOURS] = project_hours
        row[_WORK_HOURS] = work
        row[_GP_MANAGED] = gp_managed
        row[_GP_PROJECTS] = gp_projects
        row[_DEBT] = debt
        if insolvent:
            _close_down(o, t, H)
            return t
    return -1


@jit
def _close_down(o, t, months):
    """Insolvency in month ``t``: from it on no MRR, revenue, customers or staff;
    cash stays at the deficit it reached; the month's loss stays recorded."""
    row = o[t]
    for m in range(N_METRICS):
        if m == _CASH or m == _PROFIT or m == _TAX:
            continue
        row[m] = 0.0
    for s in range(t + 1, months + 1):
        later = o[s]
        for m in range(N_METRICS):
            later[m] = 0.0
        later[_CASH] = row[_CASH]


@jit
def _first_passage(o, threshold, sustain):
    """First month at which MRR (``o[:, _MRR]``) has been at or above ``threshold`` for
    ``sustain`` months running, or -1."""
    run = 0
    for t in range(o.shape[0]):
        if o[t, _MRR] >= threshold:
            run += 1
            if run >= sustain:
                return t
        else:
            run = 0
    return -1


@jit
def run_paths(params, seeds, months, threshold, sustain, churn_at_renewal,
              alignment_enabled, seats_ppf, size_ppf, book, keep, out, first_passage,
              insolvency_month):
    """Every path of the block, one after the other (serial: the caller,
    :func:`simulator.engine.run_chunk`, runs blocks on several threads).

    Each path is simulated into one ``(months + 1, N_METRICS)`` block reused by
    every path of the block (it stays in the core's cache; each month's metrics
    are one contiguous row), then its metrics ``keep`` are copied out in order:
    ``out[i, j, :]`` is metric ``keep[j]``, each a contiguous run of stores (the
    former per-month stores into ``out[i, :, t]``, one every ``8 (months + 1)``
    bytes, were 17% of the engine's time). A run that reads only per-path
    outcomes keeps few metrics or none.
    """
    block = np.empty((months + 1, N_METRICS))
    for i in range(params.size):
        insolvency_month[i] = _simulate_path(params[i], seeds[i], months, churn_at_renewal,
                                             alignment_enabled, seats_ppf, size_ppf, book,
                                             block)
        first_passage[i] = _first_passage(block, threshold, sustain)
        for j in range(keep.size):
            m = keep[j]
            dest = out[i, j]
            for t in range(months + 1):
                dest[t] = block[t, m]
