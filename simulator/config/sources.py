"""The documents behind the schema's sources: "seed 00N" is one of five articles.

The schema cites its defaults' sources briefly ("seed 003: 8-15% a year in
three benchmark studies"); :func:`cite` names the article instead, so a
reader can look it up. docs/calibration.md gives each value's source and
plausible range.
"""

from __future__ import annotations

import re

__all__ = ["MEASURE", "SOURCES", "cite", "how_to_measure"]

SOURCES: dict[str, str] = {
    "000": "Howard M. Cohen, \"MRR is Not the Whole Goal - Capture the Entire Solution\" "
           "(BitTitan white paper)",
    "001": "Michael Ketchum, \"How to Transition to Monthly Recurring Revenue (MRR)\"",
    "002": "Ingram Micro, Channel Advisor, Summer 2010, \"Recurring Revenue\" (Service "
           "Leadership figures)",
    "003": "Ryan Morris, \"The One Metric That Matters Most\", Channel Futures, 11 May 2016",
    "004": "Gary Pica (TruMethods), \"Breaking the profitability barrier\" (the reactive "
           "spiral)",
}
"""The five articles the model comes from (``seed 00N`` in the schema's sources);
docs/calibration.md gives each value's source and range."""

_SEED = re.compile(r"\bseeds? (00\d)\b")


def cite(text: str) -> str:
    """``text`` with each ``seed 00N`` replaced by the article's author and title."""
    return _SEED.sub(lambda m: SOURCES.get(m.group(1), m.group(0)), text)


MEASURE: dict[str, str] = {
    "staff.escalation_share": "in the PSA, the owner's hours on tickets over all ticket "
                              "hours, for the last three months",
    "staff.owner_hours_per_month": "keep a timesheet of your own hours for four weeks",
    "staff.escalation_lead_techs": "your plan: at how many technicians a senior technician "
                                   "or desk lead takes the escalations off you",
    "staff.owner_sales_hours_per_month": "the same timesheet: hours spent prospecting, in "
                                         "meetings and on proposals",
    "staff.management_hours_per_employee": "the same timesheet: one-to-ones, scheduling and "
                                           "reviews, over your employees",
    "customers.account_hours_per_month": "the same timesheet: hours on client reviews and "
                                         "reports, over your clients",
    "tickets.hours_reactive": "in the PSA, time logged on reactive tickets over their number",
    "tickets.hours_aligned": "in the PSA, time per ticket of your standardized clients",
    "tickets.per_endpoint_reactive": "in the PSA and RMM, tickets a month over managed "
                                     "endpoints",
    "tickets.per_endpoint_aligned": "the same count for your standardized clients",
    "tickets.proactive_hours_per_endpoint": "in the PSA, hours logged on maintenance, "
                                            "patching and backups over managed endpoints",
    "tickets.proactive_hours_aligned": "the same hours for your standardized clients' "
                                       "endpoints",
    "tickets.neglect_ticket_uplift": "in the PSA and RMM, tickets an endpoint a month of "
                                     "clients whose patching and maintenance lapsed over "
                                     "those of your well-maintained clients, less one",
    "tickets.maintenance_debt_months": "in the PSA, the months a client's tickets take to "
                                       "settle after lapsed maintenance is caught up",
    "customers.endpoints_per_seat": "in the RMM, managed endpoints over billed seats",
    "customers.price_per_seat": "your price list: what a new client pays per seat, all in",
    "customers.onboarding_hours_per_seat": "in the PSA, hours logged on your last few "
                                           "onboardings over their seats",
    "churn.annual_rate": "managed clients lost in the last two years over clients held",
    "staff.tech_cost_per_month": "payroll: a technician's pay, taxes and benefits",
    "staff.tech_hours_per_month": "in the PSA, hours logged per technician a month",
    "staff.overtime_max_share": "payroll: overtime hours over contracted hours in a busy "
                                "month",
    "staff.tech_turnover_annual": "technicians who left in the last two years over "
                                  "headcount",
    "sales.meetings_per_selling_hour": "first meetings booked over hours spent prospecting",
    "sales.proposal_rate": "in the CRM, proposals over first meetings",
    "sales.close_rate": "in the CRM, signed proposals over proposals sent",
    "sales.cycle_months": "in the CRM, months from first meeting to signature",
    "sales.referral_share": "in the CRM, deals that came from referrals over all deals",
    "finance.owner_pay_per_month": "your own pay and draws over the last year",
    "finance.overhead_per_month": "the P&L: rent, accounting, insurance and admin",
    "finance.overhead_per_employee_month": "the P&L: desks, laptops, licences and training "
                                           "over headcount",
    "finance.overhead_per_customer_month": "the P&L: billing, licences and admin over "
                                           "clients",
    "finance.tools_share": "the P&L: the RMM, PSA and antivirus every client gets over "
                           "managed-services revenue",
    "finance.standard_stack_cost_per_endpoint": "vendor invoices: EDR, backup and "
                                                "documentation licences of your standardized "
                                                "clients over their endpoints",
    "finance.marketing_share": "the P&L: marketing over revenue",
    "finance.project_other_cost_share": "the P&L: project costs other than your "
                                        "technicians' time over project revenue",
    "projects.per_customer_year": "projects sold to managed clients last year over clients",
    "projects.product_spend_per_seat_year": "hardware and software resold to managed "
                                            "clients last year over their seats",
    "projects.bill_rate_per_hour": "project and T&M revenue over the technician hours "
                                   "logged on it",
}
"""How an owner measures each assumption that moves answers most (the run's uncertainty
split names them); :func:`how_to_measure` covers the rest."""

_MEASURE_IN_SOURCE = re.compile(r"\(measure: ([^)]*)\)|measure: ([^;)]*)")


def how_to_measure(key: str) -> str:
    """How to measure ``key`` in owner words: :data:`MEASURE`, else the ``measure:`` note of
    its schema source, else a generic way (records, or peers)."""
    if key in MEASURE:
        return MEASURE[key]
    from .schema import param_specs

    spec = param_specs().get(key)
    if spec is not None:
        match = _MEASURE_IN_SOURCE.search(spec.source)
        if match:
            return (match.group(1) or match.group(2)).strip()
    return ("no record of a small MSP shows it directly: log it for a quarter, or ask a "
            "peer group for theirs")
