"""The tables as typed records, checked row by row and across tables.

Exports as they come: an agreement table may hold several rows per client
(additions, a re-papered price, a cancellation, a client who came back); a
pipeline may give opportunity stages instead of proposal/outcome; a ticket
table may mix internal, break-fix and project tickets (left out) or be a table
of time entries (entries of a ticket summed into it; entries on no ticket kept
as other work). A date after today is never the business's present: the row
is left out (a contract end after today: the client is active), with a warning
naming the file, the row and the column.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from .tables import Table

__all__ = ["Client", "Deal", "PnlMonth", "Spell", "Ticket", "WorkEntry", "clients_of",
           "deals_of", "pnl_of", "tickets_of"]

_YES_NO = {"yes": "yes", "y": "yes", "true": "yes", "1": "yes", "no": "no", "n": "no",
           "false": "no", "0": "no"}
_OUTCOMES = {"won": "won", "win": "won", "lost": "lost", "loss": "lost", "open": "open",
             "pending": "open"}
STAGES: dict[str, tuple[bool, str]] = {
    # stage (lower case) -> (a proposal was made, outcome)
    "lead": (False, "open"), "new": (False, "open"), "qualification": (False, "open"),
    "qualified": (False, "open"), "discovery": (False, "open"), "meeting": (False, "open"),
    "first meeting": (False, "open"), "needs analysis": (False, "open"),
    "proposal": (True, "open"), "proposal sent": (True, "open"), "quote": (True, "open"),
    "quote sent": (True, "open"), "quoted": (True, "open"), "negotiation": (True, "open"),
    "negotiation/review": (True, "open"), "verbal": (True, "open"),
    "closed won": (True, "won"), "won": (True, "won"), "closed - won": (True, "won"),
    "closed lost": (True, "lost"), "lost": (True, "lost"), "closed - lost": (True, "lost"),
    "no decision": (False, "lost"), "closed - no decision": (False, "lost"),
    "disqualified": (False, "lost"), "unqualified": (False, "lost"),
    "closed - no proposal": (False, "lost"), "no proposal": (False, "lost"),
}
"""Opportunity stages: closed-lost counts as a lost proposal, no-decision and
disqualified as a meeting that led to none (docs/fit.md)."""

LEFT_OUT_TYPES = ("internal", "break fix", "break-fix", "breakfix", "project", "t&m",
                  "time and materials", "admin", "sales")
"""Ticket types that are not the managed book's reactive work (matched as words in the
``type`` column, lower case)."""

RETURN_GAP_DAYS = 31
"""Agreement rows closer than this are one stay of the client; a longer gap: it left and
came back."""


@dataclass(frozen=True)
class Spell:
    """One agreement row: its dates, seats and fee."""

    start: datetime.date
    end: datetime.date | None
    seats: float
    fee: float
    row: int

    def active(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Client:
    """One stay of a client: from its first agreement to its cancellation (``end``).
    ``seats``, ``monthly_fee``: its latest; ``spells``: every agreement row of the stay
    (additions overlap, a re-papered price follows the row it replaces)."""

    name: str
    start: datetime.date
    end: datetime.date | None
    seats: float
    endpoints: float | None
    monthly_fee: float
    row: int
    spells: tuple[Spell, ...] = field(default=())

    def fee_at(self, day: datetime.date) -> float:
        """The client's fee ($/month) on ``day`` (0 outside its stay)."""
        if not self.spells:
            return self.monthly_fee if self.start <= day and (self.end is None
                                                              or day < self.end) else 0.0
        return sum(s.fee for s in self.spells if s.active(day))

    def seats_at(self, day: datetime.date) -> float:
        """Seats on ``day``: the largest of the agreements then active (an add-on covers
        the same users)."""
        if not self.spells:
            return self.seats
        return max((s.seats for s in self.spells if s.active(day)), default=self.seats)


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
class WorkEntry:
    """A time entry on no ticket (maintenance, projects, admin): who, when, how long."""

    date: datetime.date
    resource: str
    hours: float
    row: int


@dataclass(frozen=True)
class PnlMonth:
    month: datetime.date
    revenue_products: float
    revenue_projects: float
    overhead: float
    row: int


def _today(table: Table) -> datetime.date:
    return table.options.today or datetime.date.today()


def _future(table: Table, k: int, column: str, day: datetime.date | None, what: str) -> bool:
    """Whether ``day`` is after today; if so a warning naming the file, row and column."""
    if day is None or day <= _today(table):
        return False
    table.warnings.append(f"{table.where(k, column)}: {day.isoformat()} is after today "
                          f"({_today(table).isoformat()}); {what}")
    return True


def clients_of(table: Table) -> list[Client]:
    """Client stays: the rows of each client merged (several rows per client allowed),
    each row's ``end_date`` (if any) not before its ``start_date``."""
    has_endpoints = "endpoints" in table.columns
    rows: dict[str, list[tuple[Spell, float | None]]] = {}
    for k in range(len(table.rows)):
        row = table.row_numbers[k]
        name = table.text(k, "client") or ""
        start = table.date(k, "start_date")
        end = table.date(k, "end_date", required=False)
        assert start is not None
        if end is not None and end < start:
            raise table.error(row, "end_date", end.isoformat(),
                              f"before start_date {start.isoformat()}; allowed: a date on or "
                              "after start_date, or empty while the client is active")
        seats = table.number(k, "seats", minimum=0, integer=True)
        endpoints = table.number(k, "endpoints", required=False) if has_endpoints else None
        fee = table.number(k, "monthly_fee")
        assert seats is not None and fee is not None
        if _future(table, k, "start_date", start, "the row is left out (not yet a client)"):
            continue
        if _future(table, k, "end_date", end, "read as active (the date a contract runs to "
                   "is not a cancellation)"):
            end = None
        rows.setdefault(name, []).append((Spell(start, end, seats, fee, row), endpoints))
    out: list[Client] = []
    for name, spells in rows.items():
        spells.sort(key=lambda s: (s[0].start, s[0].row))
        stay: list[tuple[Spell, float | None]] = []
        stay_end: datetime.date | None = None
        for spell, endpoints in spells:
            if stay and stay_end is not None and \
                    (spell.start - stay_end).days > RETURN_GAP_DAYS:
                out.append(_stay(name, stay))
                stay = []
            if not stay:
                stay_end = spell.end
            elif stay_end is not None:
                stay_end = None if spell.end is None else max(stay_end, spell.end)
            stay.append((spell, endpoints))
        out.append(_stay(name, stay))
    for c in out:
        if c.seats < 1:
            raise table.error(c.row, "seats", c.seats, "out of range; allowed: a number of "
                              "seats >= 1 for the client's latest agreement")
    return out


def _stay(name: str, stay: list[tuple[Spell, float | None]]) -> Client:
    spells = tuple(s for s, _ in stay)
    start = min(s.start for s in spells)
    end = None if any(s.end is None for s in spells) else max(s.end for s in spells
                                                              if s.end is not None)
    last = (end - datetime.timedelta(days=1)) if end is not None else datetime.date.max
    fee = sum(s.fee for s in spells if s.active(last)) or spells[-1].fee
    seats = max((s.seats for s in spells if s.active(last)), default=spells[-1].seats)
    endpoints = [e for s, e in stay if e is not None and s.active(last)]
    return Client(name, start, end, seats, max(endpoints) if endpoints else None, fee,
                  spells[0].row, spells if len(spells) > 1 else ())


def deals_of(table: Table) -> list[Deal]:
    """First meetings (or opportunities) with their proposal and outcome; a closed deal
    has a close date when the table has the column."""
    out = []
    staged = "stage" in table.columns and "outcome" not in table.columns
    for k in range(len(table.rows)):
        row = table.row_numbers[k]
        date = table.date(k, "date")
        prospect = table.text(k, "prospect") or ""
        if staged:
            stage = (table.text(k, "stage") or "").lower()
            if stage not in STAGES:
                raise table.error(row, "stage", stage, "unknown stage; allowed: "
                                  + " / ".join(STAGES))
            proposal, outcome = STAGES[stage]
            if "proposal" in table.columns and table.text(k, "proposal", required=False):
                proposal = table.choice(k, "proposal", _YES_NO) == "yes" or outcome == "won"
        else:
            proposal = table.choice(k, "proposal", _YES_NO) == "yes"
            outcome = table.choice(k, "outcome", _OUTCOMES)
        has_close = "close_date" in table.columns
        close = table.date(k, "close_date", required=outcome != "open" and not staged) \
            if has_close else None
        assert date is not None
        if _future(table, k, "date", date, "the row is left out"):
            continue
        if _future(table, k, "close_date", close, "read as open"):
            outcome, close = "open", None
        if outcome != "open" and close is None:
            close = date
        if close is not None and close < date:
            raise table.error(row, "close_date", close.isoformat(),
                              f"before the first meeting {date.isoformat()}; allowed: a date "
                              "on or after it")
        if outcome == "won" and not proposal:
            raise table.error(row, "proposal", "no", "a won deal without a proposal; allowed: "
                              "yes for every won deal")
        out.append(Deal(date, prospect, proposal, outcome if outcome != "open" else "open",
                        close if outcome != "open" else None, row))
    return out


def _left_out_type(text: str | None) -> bool:
    t = (text or "").lower()
    return any(word in t for word in LEFT_OUT_TYPES)


def tickets_of(table: Table, clients: list[Client] | None = None
               ) -> tuple[list[Ticket], list[WorkEntry]]:
    """Tickets (and time entries on no ticket); with a client list, each ticket's client
    must be in it. A table whose ticket numbers repeat is read as time entries: the
    entries of a ticket are summed into one ticket (created at the first, its resource
    the one who worked it most)."""
    known = None if clients is None else {c.name for c in clients}
    tickets: list[Ticket] = []
    work: list[WorkEntry] = []
    has_ticket = "ticket" in table.columns
    ids = [table.text(k, "ticket", required=False) if has_ticket else None
           for k in range(len(table.rows))]
    present = [i for i in ids if i]
    entries = has_ticket and (len(set(present)) < len(present) or len(present) < len(ids))
    left_out = 0
    grouped: dict[str, list[tuple[int, Ticket]]] = {}
    for k in range(len(table.rows)):
        row = table.row_numbers[k]
        created = table.date(k, "created")
        closed = table.date(k, "closed", required=False) if "closed" in table.columns else None
        hours = table.number(k, "hours")
        resource = table.text(k, "resource") or ""
        assert created is not None and hours is not None
        if _future(table, k, "created", created, "the row is left out"):
            continue
        if "type" in table.columns and _left_out_type(table.text(k, "type", required=False)):
            left_out += 1
            if entries:
                work.append(WorkEntry(created, resource, hours, row))
            continue
        if entries and not ids[k]:
            work.append(WorkEntry(created, resource, hours, row))
            continue
        client = table.text(k, "client") or ""
        if known is not None and client not in known:
            raise table.error(row, "client", client, "not in the clients table; allowed: a "
                              "client listed there")
        if closed is not None and closed < created:
            raise table.error(row, "closed", closed.isoformat(),
                              f"before created {created.isoformat()}; allowed: a date on or "
                              "after it")
        ticket = Ticket(created, closed, client, hours, resource, row)
        if entries:
            grouped.setdefault(str(ids[k]), []).append((k, ticket))
        else:
            tickets.append(ticket)
    for parts in grouped.values():
        by_resource: dict[str, float] = {}
        for _, t in parts:
            by_resource[t.resource] = by_resource.get(t.resource, 0.0) + t.hours
        first = min(parts, key=lambda p: p[1].created)[1]
        tickets.append(Ticket(first.created, max(((t.closed or t.created) for _, t in parts)),
                              first.client, sum(t.hours for _, t in parts),
                              max(by_resource, key=lambda r: by_resource[r]), first.row))
    if left_out:
        table.warnings.append(f"{table.name}: {left_out} rows of internal, break-fix or "
                              "project types left out of the reactive tickets")
    tickets.sort(key=lambda t: (t.created, t.row))
    return tickets, work


def owner_share(tickets: Iterable[Ticket], owner: str) -> float:
    """The owner's share of ticket hours."""
    total = mine = 0.0
    for t in tickets:
        total += t.hours
        mine += t.hours if t.resource == owner else 0.0
    return mine / total if total else 0.0


def pnl_of(table: Table) -> list[PnlMonth]:
    """Monthly P&L lines, one row a month, in date order (title and total rows skipped)."""
    out: list[PnlMonth] = []
    seen: dict[datetime.date, int] = {}
    for k in range(len(table.rows)):
        row = table.row_numbers[k]
        month = table.month(k, "month")
        if month in seen:
            raise table.error(row, "month", month.isoformat()[:7], f"listed twice (first in "
                              f"row {seen[month]}); allowed: one row a month")
        seen[month] = row
        products = table.number(k, "revenue_products")
        projects = table.number(k, "revenue_projects")
        overhead = table.number(k, "overhead")
        assert products is not None and projects is not None and overhead is not None
        if _future(table, k, "month", month, "the row is left out"):
            continue
        out.append(PnlMonth(month, products, projects, overhead, row))
    return sorted(out, key=lambda m: m.month)
