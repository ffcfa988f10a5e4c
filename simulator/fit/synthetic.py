"""A synthetic MSP's records from known parameters, for the worked example and the
recovery tests (independent of the simulation engine: plain numpy draws).

:func:`history` returns the four tables as records; :func:`write_csv` writes them
in the native format. Clients come from the won deals of the pipeline (plus a
starting book), each leaves after an exponential tenure, each active client
raises Poisson tickets per endpoint each month, the owner takes each ticket with
probability ``escalation_share``.
"""

from __future__ import annotations

import csv
import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .records import Client, Deal, PnlMonth, Ticket

__all__ = ["TRUTH", "History", "history", "write_csv"]

TRUTH: dict[str, float] = {
    "churn_annual": 0.12,
    "meetings_per_month": 3.0,
    "proposal_rate": 0.5,
    "close_rate": 0.35,
    "tickets_per_endpoint": 0.9,
    "hours_mean": 1.0,
    "escalation_share": 0.2,
    "seats_median": 18.0,
    "price_per_seat": 120.0,
}
"""The worked example's parameters (examples/synthetic_msp.py): a labelled synthetic MSP."""


@dataclass
class History:
    clients: list[Client]
    deals: list[Deal]
    tickets: list[Ticket]
    pnl: list[PnlMonth]
    as_of: datetime.date
    owner: str = "Owner"


def _month(start: datetime.date, k: int) -> datetime.date:
    index = start.year * 12 + start.month - 1 + k
    return datetime.date(index // 12, index % 12 + 1, 1)


def history(rng: np.random.Generator, *, months: int = 48, start_clients: int = 12,
            churn_annual: float = 0.12, meetings_per_month: float = 3.0,
            proposal_rate: float = 0.5, close_rate: float = 0.35,
            tickets_per_endpoint: float = 0.9, hours_mean: float = 1.0,
            hours_sigma: float = 0.6, escalation_share: float = 0.2,
            seats_median: float = 18.0, price_per_seat: float = 120.0,
            endpoints_per_seat: float = 1.2, techs: int = 4,
            start: datetime.date = datetime.date(2022, 12, 1)) -> History:
    """``months`` months of a synthetic MSP's records (see the module docstring)."""
    as_of = _month(start, months) - datetime.timedelta(days=1)
    hazard_per_day = -np.log1p(-churn_annual) / 365.25
    clients: list[Client] = []
    deals: list[Deal] = []

    def add_client(name: str, begin: datetime.date, row: int) -> None:
        seats = float(max(1, round(seats_median * np.exp(0.6 * rng.standard_normal()))))
        tenure = rng.exponential(1 / hazard_per_day)
        end = begin + datetime.timedelta(days=int(tenure))
        fee = round(seats * price_per_seat * float(rng.uniform(0.85, 1.15)), 2)
        clients.append(Client(name, begin, end if end <= as_of else None, seats,
                              round(seats * endpoints_per_seat), fee, row))

    for k in range(start_clients):
        add_client(f"Client {k + 1:03d}", start - datetime.timedelta(
            days=int(rng.integers(30, 3 * 365))), k + 2)
    for m in range(months):
        first = _month(start, m)
        days = (_month(start, m + 1) - first).days
        for _ in range(int(rng.poisson(meetings_per_month))):
            date = first + datetime.timedelta(days=int(rng.integers(0, days)))
            proposal = bool(rng.random() < proposal_rate)
            won = proposal and bool(rng.random() < close_rate)
            close = date + datetime.timedelta(days=int(rng.integers(7, 60)))
            outcome = "won" if won else "lost"
            if close > as_of:
                outcome, close_date = "open", None
            else:
                close_date = close
            name = f"Prospect {len(deals) + 1:04d}"
            deals.append(Deal(date, name, proposal, outcome, close_date, len(deals) + 2))
            if outcome == "won":
                add_client(name, close, len(clients) + 2)
    tickets: list[Ticket] = []
    resources = [f"Tech {k + 1}" for k in range(techs)]
    mu = np.log(hours_mean) - hours_sigma ** 2 / 2
    for m in range(months):
        first = _month(start, m)
        last = _month(start, m + 1)
        for c in clients:
            lo = max(c.start, first)
            hi = min(c.end or last, last)
            if hi <= lo:
                continue
            exposure = (c.endpoints or 0.0) * (hi - lo).days / (365.25 / 12)
            n = int(rng.poisson(tickets_per_endpoint * exposure))
            if n == 0:
                continue
            offsets = rng.integers(0, max((hi - lo).days, 1), size=n)
            hours = np.round(np.exp(mu + hours_sigma * rng.standard_normal(n)), 2)
            owner = rng.random(n) < escalation_share
            techs_of = rng.integers(0, techs, size=n)
            for j in range(n):
                created = lo + datetime.timedelta(days=int(offsets[j]))
                tickets.append(Ticket(created, created, c.name, float(hours[j]),
                                      "Owner" if owner[j] else resources[techs_of[j]],
                                      len(tickets) + 2))
    pnl = [PnlMonth(_month(start, m), round(float(rng.normal(30_000, 3_000)), 2),
                    round(float(rng.normal(20_000, 2_500)), 2),
                    round(float(rng.normal(9_000, 500)), 2), m + 2) for m in range(months)]
    return History(clients, deals, tickets, pnl, as_of)


def write_csv(h: History, folder: str | Path) -> dict[str, Path]:
    """Write the history as ``clients.csv``, ``pipeline.csv``, ``tickets.csv`` and
    ``pnl.csv`` in the native format; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def iso(d: datetime.date | None) -> str:
        return "" if d is None else d.isoformat()

    tables = {
        "clients": (["client", "start_date", "end_date", "seats", "endpoints", "monthly_fee"],
                    [[c.name, iso(c.start), iso(c.end), f"{c.seats:g}",
                      f"{c.endpoints:g}" if c.endpoints is not None else "",
                      f"{c.monthly_fee:.2f}"] for c in h.clients]),
        "pipeline": (["date", "prospect", "proposal", "outcome", "close_date"],
                     [[iso(d.date), d.prospect, "yes" if d.proposal else "no", d.outcome,
                       iso(d.close_date)] for d in h.deals]),
        "tickets": (["created", "closed", "client", "hours", "resource"],
                    [[iso(t.created), iso(t.closed), t.client, f"{t.hours:g}", t.resource]
                     for t in h.tickets]),
        "pnl": (["month", "revenue_products", "revenue_projects", "overhead"],
                [[m.month.isoformat(), f"{m.revenue_products:.2f}",
                  f"{m.revenue_projects:.2f}", f"{m.overhead:.2f}"] for m in h.pnl]),
    }
    out = {}
    for name, (header, rows) in tables.items():
        path = folder / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        out[name] = path
    return out
