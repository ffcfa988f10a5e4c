"""Names, units and meaning of the monthly metrics the engine records.

The order of :data:`METRICS` is the order of the engine's output axis
(``simulator.engine._kernel`` states the same order and a test keeps the two
in step).
"""

from __future__ import annotations

__all__ = ["METRICS", "METRIC_INFO", "REVENUE_METRICS"]

METRIC_INFO: dict[str, tuple[str, str]] = {
    "mrr": ("$/month", "monthly recurring revenue: managed services + cloud commissions"),
    "mrr_managed": ("$/month", "managed-services MRR (seats x price per seat)"),
    "mrr_cloud": ("$/month", "cloud resale commission MRR"),
    "customers": ("customers", "managed-services customers at the end of the month"),
    "seats": ("seats", "seats under management at the end of the month"),
    "meetings": ("meetings/month", "sales meetings held"),
    "new_customers": ("customers/month", "customers signed"),
    "churned": ("customers/month", "customers lost"),
    "tickets": ("tickets/month", "help-desk tickets raised"),
    "ticket_hours": ("hours/month", "hours to resolve the month's tickets"),
    "owner_sales_hours": ("hours/month", "owner hours left for selling"),
    "techs": ("technicians", "technicians on staff"),
    "alignment_staff": ("people", "alignment managers (network administrators) on staff"),
    "utilization": ("ratio", "technician work demanded / technician capacity"),
    "unserved_share": ("ratio", "share of the month's work nobody served"),
    "alignment_mean": ("score", "mean customer alignment score (0 reactive, 1 aligned)"),
    "revenue_products": ("$/month", "product resale revenue (legacy + managed customers)"),
    "revenue_projects": ("$/month", "projects and T&M revenue (legacy + onboarding + ongoing)"),
    "revenue_managed": ("$/month", "managed-services revenue"),
    "revenue_cloud": ("$/month", "cloud commission revenue"),
    "pretax_profit": ("$/month", "pretax profit"),
    "cash": ("$", "cash at the end of the month (negative: drawn on the credit line)"),
    "managers": ("people", "service managers on staff"),
    "tech_quits": ("technicians/month", "technicians who quit"),
    "service_failure": ("ratio", "recent unserved share of the work (what customers feel)"),
    "tax_paid": ("$/month", "tax paid on the year's positive pretax profit (months 12, 24, ...)"),
    "owner_escalation_hours": ("hours/month", "owner hours on escalated tickets"),
    "owner_management_hours": ("hours/month", "owner hours managing his direct reports"),
    "owner_account_hours": ("hours/month", "owner hours on account care (reviews, reports)"),
    "owner_overflow_hours": ("hours/month", "owner hours on tickets the technicians could not "
                                            "take"),
    "project_hours": ("hours/month", "technician hours on projects, T&M and onboarding"),
    "work_hours": ("hours/month", "technician work of the month (every hour asked of them less "
                                  "the escalations the owner took)"),
    "gross_profit_managed": ("$/month", "managed-services gross profit (revenue less tools, "
                                        "alignment staff and the technicians' non-project "
                                        "share)"),
    "gross_profit_projects": ("$/month", "projects gross profit (revenue less other direct "
                                         "costs and the technicians' project share)"),
    "maintenance_debt": ("share", "maintenance debt: the estate's neglected share, the "
                                  "undone share of proactive maintenance remembered over "
                                  "tickets.maintenance_debt_months (raises the ticket rate)"),
}

METRICS: tuple[str, ...] = tuple(METRIC_INFO)


REVENUE_METRICS: tuple[str, ...] = ("revenue_products", "revenue_projects", "revenue_managed",
                                    "revenue_cloud")
"""The revenue lines that sum to a month's revenue."""
