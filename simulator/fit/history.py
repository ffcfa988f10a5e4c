"""What a business's records show over time, before anything is fitted: the window they
cover, the records up to a date, clients active on a day, endpoint-months of exposure,
tickets and technicians by month, client tenures and their Kaplan-Meier survival, and
a drift in the ticket rate."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy import stats

from .records import Client, Deal, PnlMonth, Ticket, WorkEntry

__all__ = ["DAYS_PER_MONTH", "DAYS_PER_YEAR", "active_clients", "add_months",
           "client_month_counts",
           "endpoint_months", "months_between", "records_until", "records_window",
           "technicians_by_month", "tenure_survival", "client_tenures", "ticket_drift",
           "tickets_by_month"]

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def endpoint_months(clients: Sequence[Client], first: datetime.date, last: datetime.date,
                    endpoints_per_seat: float) -> float:
    """Endpoint-months the book held between two dates (each client while active)."""
    total = 0.0
    for c in clients:
        lo = max(c.start, first)
        hi = min(c.end or last, last)
        if hi > lo:
            endpoints = c.endpoints if c.endpoints is not None else c.seats * endpoints_per_seat
            total += endpoints * (hi - lo).days / DAYS_PER_MONTH
    return total


def client_month_counts(tickets: Sequence[Ticket], clients: Sequence[Client],
                        first: datetime.date, end: datetime.date, endpoints_per_seat: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tickets and endpoint-months by client and calendar month: ``(counts, exposure,
    month_of_year, client index)``, one entry per client-month with exposure."""
    months: list[tuple[datetime.date, datetime.date]] = []  # (first day, next month's)
    m = first.replace(day=1)
    while m < end:
        nxt = (m.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        months.append((m, nxt))
        m = nxt
    index = {c.name: k for k, c in enumerate(clients)}
    counts: dict[tuple[int, datetime.date], int] = {}
    for t in tickets:
        k = index.get(t.client)
        if k is not None:
            key = (k, t.created.replace(day=1))
            counts[key] = counts.get(key, 0) + 1
    n, e, moy, who = [], [], [], []
    for k, c in enumerate(clients):
        endpoints = c.endpoints if c.endpoints is not None else c.seats * endpoints_per_seat
        for m, nxt in months:
            lo, hi = max(c.start, m), min(c.end or nxt, nxt, end)
            if hi <= lo:
                continue
            n.append(counts.get((k, m), 0))
            e.append(endpoints * (hi - lo).days / DAYS_PER_MONTH)
            moy.append(m.month - 1)
            who.append(k)
    return (np.array(n, dtype=np.float64), np.array(e, dtype=np.float64),
            np.array(moy, dtype=np.int64), np.array(who, dtype=np.int64))


def technicians_by_month(tickets: Sequence[Ticket], work: Sequence[WorkEntry],
                         owner: str | None) -> dict[str, Any]:
    """Technicians on staff month by month: the resources besides the owner who worked
    a ticket or a time entry in the month (a leaver and his replacement both count in
    the month they cross); ``now``: the median of the last three whole months."""
    dated = [(t.created, t.resource) for t in tickets] + [(w.date, w.resource) for w in work]
    dated = [(d, r) for d, r in dated if r and r != owner]
    if not dated:
        return {"months": [], "techs": [], "now": 0}
    by_month: dict[datetime.date, set[str]] = {}
    for d, r in dated:
        by_month.setdefault(d.replace(day=1), set()).add(r)
    first, last = min(by_month), max(d for d, _ in dated)
    months, techs = [], []
    m = first
    while m <= last:
        months.append(m)
        techs.append(len(by_month.get(m, ())))
        m = (m.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    whole = techs[:-1] if (last + datetime.timedelta(days=1)).day != 1 and len(techs) > 1 \
        else techs
    now = int(round(float(np.median(whole[-3:]))))
    return {"months": months, "techs": techs, "now": now}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` after ``day``'s (before it, if negative)."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(start: datetime.date, end: datetime.date) -> int:
    """Whole months from ``start`` to ``end`` (0 within the first month)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(0, months - (end.day < start.day))


def active_clients(clients: Sequence[Client], day: datetime.date) -> list[Client]:
    """The clients signed by ``day`` and not gone by then."""
    return [c for c in clients if c.start <= day and (c.end is None or c.end > day)]


def records_window(clients: Sequence[Client] | None, deals: Sequence[Deal] | None,
                   tickets: Sequence[Ticket] | None, pnl: Sequence[PnlMonth] | None,
                   work: Sequence[WorkEntry] | None = None
                   ) -> tuple[datetime.date, datetime.date] | None:
    """The records' first and last dates. The last is the last activity (a signing, a
    cancellation, a meeting, a decision, a ticket, a time entry, a P&L month). The first
    is the earliest activity that is not a signing (clients already in place when the
    records start carry their old start dates; those who left before are missing), or
    the first signing when the clients table is all there is."""
    clients, deals, tickets = clients or (), deals or (), tickets or ()
    pnl, work = pnl or (), work or ()
    watched = [c.end for c in clients if c.end] + [d.date for d in deals]
    watched += [d.close_date for d in deals if d.close_date]
    watched += [t.created for t in tickets] + [w.date for w in work] + [m.month for m in pnl]
    everything = watched + [c.start for c in clients]
    if not everything:
        return None
    first = min(watched) if watched else min(everything)
    if not (tickets or deals or pnl or work):
        first = min(everything)  # a clients table alone: watched from its first signing
    return first, max(everything)


def records_until(clients: Sequence[Client] | None, deals: Sequence[Deal] | None,
                  tickets: Sequence[Ticket] | None, pnl: Sequence[PnlMonth] | None,
                  work: Sequence[WorkEntry] | None, cutoff: datetime.date
                  ) -> tuple[list[Client], list[Deal], list[Ticket], list[PnlMonth],
                             list[WorkEntry]]:
    """The records as they stood on ``cutoff``: clients signed by then (a later
    cancellation not yet known), deals decided later still open, later tickets, time
    entries and P&L months left out."""
    c_out = [replace(c, end=None if c.end is not None and c.end > cutoff else c.end,
                     spells=tuple(replace(s, end=None if s.end is not None and s.end > cutoff
                                          else s.end) for s in c.spells
                                  if s.start <= cutoff))
             for c in clients or () if c.start <= cutoff]
    c_out = [replace(c, monthly_fee=c.fee_at(cutoff) or c.monthly_fee,
                     seats=c.seats_at(cutoff)) if c.spells and c.end is None else c
             for c in c_out]
    d_out = [d if d.close_date is None or d.close_date <= cutoff
             else replace(d, outcome="open", close_date=None)
             for d in deals or () if d.date <= cutoff]
    t_out = [t for t in tickets or () if t.created <= cutoff]
    p_out = [m for m in pnl or () if m.month < cutoff.replace(day=1)]
    w_out = [w for w in work or () if w.date <= cutoff]
    return c_out, d_out, t_out, p_out, w_out


def client_tenures(clients: Sequence[Client], as_of: datetime.date,
             window_start: datetime.date | None = None) -> dict[str, Any]:
    """Years each stay was watched: from its start (or ``window_start``, the records'
    first date, if later) to its end (``ended``) or to ``as_of`` (``active``)."""
    w = window_start or datetime.date.min
    ended = [(c.end - max(c.start, w)).days / DAYS_PER_YEAR for c in clients
             if c.end is not None and c.end <= as_of and c.end >= w and c.start <= as_of]
    active = [(as_of - max(c.start, w)).days / DAYS_PER_YEAR for c in clients
              if (c.end is None or c.end > as_of) and c.start <= as_of]
    truncated = sum(c.start < w <= (c.end or as_of) for c in clients)
    return {"ended": ended, "active": active, "truncated": truncated,
            "ages": [(as_of - c.start).days / DAYS_PER_YEAR for c in clients
                     if (c.end is None or c.end > as_of) and c.start <= as_of]}


def tenure_survival(tenures: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """Kaplan-Meier survival of the client tenures (``scipy.stats.ecdf`` on the stays that
    ended, those still active censored): ``(years, share still a client)``, or ``None``
    when no stay has ended."""
    ended, active = tenures["ended"], tenures["active"]
    if not ended:
        return None
    data = stats.CensoredData(uncensored=np.maximum(ended, 1e-9),
                              right=np.maximum(active, 1e-9))
    sf = stats.ecdf(data).sf
    return sf.quantiles, sf.probabilities


def tickets_by_month(tickets: Sequence[Ticket], clients: Sequence[Client],
                      endpoints_per_seat: float) -> dict[str, list[Any]]:
    counts: dict[datetime.date, int] = {}
    for t in tickets:
        month = t.created.replace(day=1)
        counts[month] = counts.get(month, 0) + 1
    months = sorted(counts)
    rates = []
    for m in months:
        nxt = (m.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        exposure = endpoint_months(clients, m, nxt, endpoints_per_seat) if clients else 0.0
        rates.append(counts[m] / exposure if exposure > 0 else None)
    return {"months": [m.isoformat()[:7] for m in months],
            "tickets": [counts[m] for m in months], "per_endpoint": rates}


def ticket_drift(tickets: Sequence[Ticket], clients: Sequence[Client], endpoints_per_seat: float
           ) -> str | None:
    """A warning when tickets per endpoint differ between the history's two halves."""
    if not clients or len(tickets) < 40:
        return None
    first = min(t.created for t in tickets)
    last = max(t.created for t in tickets) + datetime.timedelta(days=1)
    mid = first + (last - first) / 2
    k1 = sum(t.created < mid for t in tickets)
    k2 = len(tickets) - k1
    e1 = endpoint_months(clients, first, mid, endpoints_per_seat)
    e2 = endpoint_months(clients, mid, last, endpoints_per_seat)
    if e1 <= 0 or e2 <= 0:
        return None
    p = float(stats.poisson_means_test(k1, e1, k2, e2).pvalue)
    if p < 0.01:
        return (f"tickets per endpoint drifted: {k1 / e1:.2f} in the first half of the "
                f"history, {k2 / e2:.2f} in the second (p = {p:.2g}); the fit pools both")
    return None
