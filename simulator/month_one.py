"""How far month 1 is from a steady state (issue 26).

A business that has run for years sits near a steady state: its technicians
are neither swamped nor idle, the owner keeps his selling hours and the
month's accounts are roughly what its P&L shows. :func:`month_one` runs the
starting business of a config through the model's own month-1 accounting (the
reference model's ``owners_month`` and ``pretax_profit``, docs/model.md steps
2, 3, 8 and 9) at the config's expected values, and :meth:`MonthOne.line` says
in words whether that month is far from steady. ``msp-sim validate`` prints
the line, ``msp-sim run`` prints it when it is a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config.schema import Config, param_specs
from .formatting import money
from .model.mechanisms import (
    escalation_hours,
    gross_profit_by_line,
    owners_month,
    pretax_profit,
    projects_billed,
)
from .model.sampling import book_array

__all__ = ["MonthOne", "SteadyLimits", "month_one"]



@dataclass(frozen=True)
class SteadyLimits:
    """Where month 1 stops being steady (the defaults are :func:`month_one`'s).

    Attributes
    ----------
    unserved : float
        Share of month 1's technician work left undone, or taken by the owner,
        above which month 1 is not steady.
    selling : float
        Share of the owner's intended selling hours below which month 1 is not steady.
    loss : float
        Pretax loss, as a share of month 1's revenue, above which month 1 is not steady.
    """

    unserved: float = 0.02
    selling: float = 0.5
    loss: float = 0.05


def _expected(config: Config, key: str) -> float:
    """The key's expected value; the median where scipy cannot give a finite mean (a
    truncated normal with a vanishing sd overflows in its density)."""
    value = config.get(key)
    if isinstance(value, int | float):
        return float(value)
    with np.errstate(all="ignore"):
        mean = float(value.mean())
        return mean if math.isfinite(mean) else float(value.frozen().median())


@dataclass(frozen=True)
class MonthOne:
    """Month 1 of a config's starting business at its expected values.

    Attributes
    ----------
    work_hours : float
        Technician work asked for (tickets, maintenance, projects) [hours].
    capacity_hours : float
        The technicians' usable hours, before overtime [hours].
    utilization : float
        ``work_hours / capacity_hours`` (0 without technicians).
    unserved_share : float
        Share of the work nobody does (technicians, overtime and owner full).
    selling_hours, selling_hours_intended : float
        The owner's selling hours left, and those he means to sell [hours].
    revenue, pretax_profit : float
        Month 1's revenue and pretax profit [$].
    problems : tuple of str
        What makes month 1 far from steady, in words; empty when it is close.
    customers : int
        Customers at month 0 (none: a new business, which has no steady state).
    """

    work_hours: float
    capacity_hours: float
    utilization: float
    unserved_share: float
    selling_hours: float
    selling_hours_intended: float
    revenue: float
    pretax_profit: float
    problems: tuple[str, ...]
    customers: int = 0

    @property
    def steady(self) -> bool:
        """Whether month 1 is close to a steady state."""
        return not self.problems

    def line(self) -> str:
        """One line in words: a warning naming each problem, or the month's figures."""
        accounts = (f"pretax profit {money(self.pretax_profit)} on revenue "
                    f"{money(self.revenue)}")
        if self.customers == 0:
            return ("month 1: no customers yet, so there is no steady state to check; "
                    f"{accounts}")
        if self.problems:
            return ("warning: month 1 is far from a steady state (the model's month-1 "
                    "accounting at your config's expected values): "
                    + "; ".join(self.problems)
                    + f"; {accounts}. A business stable for months shows none of this: "
                    "check [start], [staff] and [tickets] against your business")
        return (f"month 1 is close to a steady state: technicians {self.utilization:.0%} "
                f"utilized ({self.work_hours:,.0f} of {self.capacity_hours:,.0f} hours), "
                f"no work left undone, the owner keeps {self.selling_hours:,.0f} of "
                f"{self.selling_hours_intended:,.0f} selling hours, {accounts}")


def month_one(config: Config, limits: SteadyLimits = SteadyLimits()) -> MonthOne:
    """Month 1 of ``config``'s starting business, from the model's own accounting.

    Every uncertain input is taken at its mean, today's book exactly where
    ``[[start.book]]`` gives it and at the mean seats and price otherwise;
    nobody quits, no backlog, no signings (docs/model.md, month 0). ``limits``
    says where month 1 stops being steady.
    """
    e = {key: _expected(config, key) for key in param_specs(per_unit=False)}
    book = book_array(config)
    drawn = max(int(round(e["start.customers"])) - len(book), 0)
    mean_seats = _expected(config, "customers.seats")
    seats = float(book[:, 0].sum()) + drawn * mean_seats
    managed = float((book[:, 0] * book[:, 1]).sum()) + drawn * mean_seats * e[
        "customers.price_per_seat"]
    n = len(book) + drawn
    cloud = seats * (e["cloud.adoption"] * e["cloud.seat_price"] * e["cloud.commission_rate"]
                     * (1.0 + e["cloud.attach_uplift"]))
    endpoints = seats * e["customers.endpoints_per_seat"]
    alignment = e["start.alignment_score"]
    techs = int(round(e["start.techs"]))
    lead_techs = e["staff.escalation_lead_techs"]
    speed = 1.0 - e["tickets.tiered_desk_saving"] if techs >= lead_techs else 1.0
    # the starting maintenance debt raises month 1's tickets (docs/model.md step 2)
    neglect = 1.0 + e["tickets.neglect_ticket_uplift"] * e["start.maintenance_debt"]
    reactive_hours = endpoints * (1.0 - alignment) * e["tickets.per_endpoint_reactive"] * e[
        "tickets.hours_reactive"] * speed * neglect
    aligned_hours = endpoints * alignment * e["tickets.per_endpoint_aligned"] * e[
        "tickets.hours_aligned"] * neglect
    decline = e["legacy.decline_annual"]
    legacy_factor = (1.0 - decline) ** (1.0 / 12.0)
    legacy_projects = e["start.legacy_project_revenue"] * legacy_factor
    projects = legacy_projects + n * e["projects.per_customer_year"] / 12.0 * _expected(
        config, "projects.size")
    project_hours = projects / e["projects.bill_rate_per_hour"]
    maintenance = endpoints * (e["tickets.proactive_hours_per_endpoint"] * (1.0 - alignment)
                               + e["tickets.proactive_hours_aligned"] * alignment)
    demand = reactive_hours + aligned_hours + maintenance + project_hours
    project_share = project_hours / demand if demand > 0 else 0.0
    reps = int(round(e["sales.reps"])) if e["sales.rep_start_month"] <= 1 else 0
    tech_hours = e["staff.tech_hours_per_month"]
    capacity = techs * tech_hours
    stretch = capacity * e["staff.overtime_max_share"]
    selling_intended = e["staff.owner_sales_hours_per_month"]
    _, _, _, work, owner_overflow, unserved, selling = owners_month(
        e["staff.owner_hours_per_month"], selling_intended,
        escalation_hours(reactive_hours, aligned_hours, e["staff.escalation_share"],
                         e["staff.escalation_share_aligned"], techs, lead_techs,
                         e["staff.owner_escalation_share_led"]),
        e["staff.management_hours_per_employee"] * (techs + reps),
        e["customers.account_hours_per_month"] * n, demand, capacity + stretch)
    overtime = min(work - capacity, stretch) if work > capacity else 0.0  # no fatigue yet
    # projects are billed on the hours delivered (the onboarding fee waits for signings)
    projects = projects_billed(projects, e["projects.bill_rate_per_hour"], project_share,
                               unserved)
    legacy_products = e["start.legacy_product_revenue"] * legacy_factor
    ms_products = e["projects.product_spend_per_seat_year"] / 12.0 * seats
    tech_cost = e["staff.tech_cost_per_month"]
    finance = {
        "tools_share": e["finance.tools_share"], "tech_cost": tech_cost,
        "stack_cost": e["finance.standard_stack_cost_per_endpoint"],
        "tech_hours": tech_hours, "overtime_premium": e["staff.overtime_premium"],
        "align_cost": e["alignment.staff_cost_per_month"],
        "project_other_cost_share": e["finance.project_other_cost_share"],
        "margin_legacy": e["finance.product_margin_legacy"],
        "margin_ms": e["finance.product_margin_ms"],
        "overhead_fixed": e["finance.overhead_per_month"],
        "overhead_per_employee": e["finance.overhead_per_employee_month"],
        "overhead_per_customer": e["finance.overhead_per_customer_month"],
        "credit_rate": e["finance.credit_annual_rate"],
        "manager_cost": e["staff.manager_cost_per_month"],
        "rep_cost": e["sales.rep_cost_per_month"],
        "owner_pay": e["finance.owner_pay_per_month"],
        "marketing_share": e["finance.marketing_share"],
        "profit_share": e["finance.profit_share"],
    }
    revenue = managed + cloud + projects + legacy_products + ms_products
    gp_managed, gp_projects = gross_profit_by_line(managed, projects, techs, overtime, 0,
                                                   project_share, endpoints * alignment, finance)
    profit = pretax_profit(managed, cloud, projects, legacy_products, ms_products, gp_managed,
                           gp_projects, techs, 0, 0, reps, n, e["start.cash"], finance)
    utilization = work / capacity if capacity > 0 and work > 0 else 0.0
    unserved_share = unserved / work if work > 0 else 0.0

    problems = []
    if unserved_share > limits.unserved:
        problems.append(f"the technicians are asked for {work:,.0f} hours against "
                        f"{capacity:,.0f} ({utilization:.0%} utilization) and "
                        f"{unserved_share:.0%} of the work ({unserved:,.0f} hours) is left "
                        "undone even with overtime and the owner's help")
    elif owner_overflow > limits.unserved * work:
        problems.append(f"the technicians are asked for {work:,.0f} hours against "
                        f"{capacity:,.0f} ({utilization:.0%} utilization), more than overtime "
                        f"covers: the owner takes {owner_overflow:,.0f} hours of their tickets")
    elif techs > 1 and utilization < e["staff.layoff_below"]:
        problems.append(f"the technicians are idle: {work:,.0f} hours of work for "
                        f"{capacity:,.0f} ({utilization:.0%} utilization, below "
                        f"staff.layoff_below = {e['staff.layoff_below']:.0%}, so the model "
                        "lets technicians go)")
    if selling_intended > 0 and selling < limits.selling * selling_intended:
        problems.append(f"the owner keeps {selling:,.0f} of the {selling_intended:,.0f} "
                        "hours he means to sell (escalations, management, account care "
                        "and the technicians' overflow take the rest)")
    if n > 0 and profit < -limits.loss * revenue:
        runway = (e["start.cash"] + e["finance.credit_limit"]) / -profit
        if runway <= 0:
            lasts = "there is no cash or credit left"
        elif runway < 1.5:
            lasts = "cash plus credit last about a month at that rate"
        else:
            lasts = f"cash plus credit last about {runway:,.0f} months at that rate"
        problems.append(f"the month loses {money(-profit)} before tax ({lasts}); if your "
                        "P&L shows a profit, a price, cost or revenue input is off")
    return MonthOne(work_hours=work, capacity_hours=capacity, utilization=utilization,
                    unserved_share=unserved_share, selling_hours=selling,
                    selling_hours_intended=selling_intended, revenue=revenue,
                    pretax_profit=profit, problems=tuple(problems), customers=n)
