"""The tables as typed records, checked row by row and across tables."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .tables import Table

__all__ = ["Client", "Deal", "PnlMonth", "Ticket", "clients_of", "deals_of", "pnl_of",
           "tickets_of"]

_YES_NO = {"yes": "yes", "y": "yes", "true": "yes", "1": "yes", "no": "no", "n": "no",
           "false": "no", "0": "no"}
_OUTCOMES = {"won": "won", "win": "won", "lost": "lost", "loss": "lost", "open": "open",
             "pending": "open"}


@dataclass(frozen=True)
class Client:
    name: str
    start: datetime.date
    end: datetime.date | None
    seats: float
    endpoints: float | None
    monthly_fee: float
    row: int


@dataclass(frozen=True)
class Deal:
    date: datetime.date
    prospect: str
    proposal: bool
    outcome: str  # won / lost / open
    close_date: datetime.date | None
    row: int


@dataclass(frozen=True)
class Ticket:
    created: datetime.date
    closed: datetime.date | None
    client: str
    hours: float
    resource: str
    row: int


@dataclass(frozen=True)
class PnlMonth:
    month: datetime.date
    revenue_products: float
    revenue_projects: float
    overhead: float
    row: int


def clients_of(table: Table) -> list[Client]:
    """Clients, each with ``end_date`` (if any) not before ``start_date``; names unique."""
    out: list[Client] = []
    seen: dict[str, int] = {}
    has_endpoints = "endpoints" in table.columns
    for k in range(len(table.rows)):
        row = table.row_numbers[k]
        name = table.text(k, "client") or ""
        if name in seen:
            raise table.error(row, "client", name, f"listed twice (first in row {seen[name]}); "
                              "allowed: one row per client")
        seen[name] = row
        start = table.date(k, "start_date")
        end = table.date(k, "end_date", required=False)
        assert start is not None
        if end is not None and end < start:
            raise table.error(row, "end_date", end.isoformat(),
                              f"before start_date {start.isoformat()}; allowed: a date on or "
                              "after start_date, or empty while the client is active")
        seats = table.number(k, "seats", minimum=1)
        endpoints = table.number(k, "endpoints", required=False) if has_endpoints else None
        fee = table.number(k, "monthly_fee")
        assert seats is not None and fee is not None
        out.append(Client(name, start, end, seats, endpoints, fee, row))
    return out


def deals_of(table: Table) -> list[Deal]:
    """First meetings with their proposal and outcome; a closed deal has a close date."""
    out = []
    for k in range(len(table.rows)):
        row = table.row_numbers[k]
        date = table.date(k, "date")
        prospect = table.text(k, "prospect") or ""
        proposal = table.choice(k, "proposal", _YES_NO) == "yes"
        outcome = table.choice(k, "outcome", _OUTCOMES)
        close = table.date(k, "close_date", required=outcome != "open")
        assert date is not None
        if close is not None and close < date:
            raise table.error(row, "close_date", close.isoformat(),
                              f"before the first meeting {date.isoformat()}; allowed: a date "
                              "on or after it")
        if outcome == "won" and not proposal:
            raise table.error(row, "proposal", "no", "a won deal without a proposal; allowed: "
                              "yes for every won deal")
        out.append(Deal(date, prospect, proposal, outcome, close, row))
    return out


def tickets_of(table: Table, clients: list[Client] | None = None) -> list[Ticket]:
    """Tickets; with a client list, each ticket's client must be in it."""
    known = None if clients is None else {c.name for c in clients}
    out = []
    for k in range(len(table.rows)):
        row = table.row_numbers[k]
        created = table.date(k, "created")
        closed = table.date(k, "closed", required=False) if "closed" in table.columns else None
        client = table.text(k, "client") or ""
        if known is not None and client not in known:
            raise table.error(row, "client", client, "not in the clients table; allowed: a "
                              "client listed there")
        hours = table.number(k, "hours")
        resource = table.text(k, "resource") or ""
        assert created is not None and hours is not None
        if closed is not None and closed < created:
            raise table.error(row, "closed", closed.isoformat(),
                              f"before created {created.isoformat()}; allowed: a date on or "
                              "after it")
        out.append(Ticket(created, closed, client, hours, resource, row))
    return out


def pnl_of(table: Table) -> list[PnlMonth]:
    """Monthly P&L lines, one row a month, in date order."""
    out: list[PnlMonth] = []
    seen: dict[datetime.date, int] = {}
    for k in range(len(table.rows)):
        row = table.row_numbers[k]
        month = table.date(k, "month")
        assert month is not None
        month = month.replace(day=1)
        if month in seen:
            raise table.error(row, "month", month.isoformat()[:7], f"listed twice (first in "
                              f"row {seen[month]}); allowed: one row a month")
        seen[month] = row
        products = table.number(k, "revenue_products")
        projects = table.number(k, "revenue_projects")
        overhead = table.number(k, "overhead")
        assert products is not None and projects is not None and overhead is not None
        out.append(PnlMonth(month, products, projects, overhead, row))
    return sorted(out, key=lambda m: m.month)
