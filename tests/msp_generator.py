"""An MSP's history and its futures, drawn by a process written for the tests alone.

It shares no code with the engine (plain numpy, month by month, its own rules), so
a fit scored against it is scored against a world the model did not make:

* a book already in place when the records start (the business ran ``pre_months``
  before; clients who left before the records are not in the export);
* clients of different sizes (lognormal seats), and optional heterogeneity:
  each client's own churn hazard and ticket rate (gamma frailties of mean 1);
* a price rise: from ``price_rise_month`` new clients sign at the new price and the
  book is re-papered at it (an agreement row ends, a new one begins);
* seasonal tickets (a cosine over the year, peak in January), lumpy projects in
  the P&L, technicians who come and go (the headcount follows the ticket hours);
* first meetings, proposals and wins with a sales cycle of days to months.

:meth:`Business.history` gives the records (clients as agreement rows, deals,
tickets, P&L) up to the as-of date; :meth:`Business.futures` continues the same
business from that state many times and returns each future's managed MRR and
client count at each month's end.
"""

from __future__ import annotations

import copy
import csv
import datetime
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulator.fit.records import Client, Deal, PnlMonth, Spell, Ticket


@dataclass
class Params:
    churn_annual: float = 0.12
    churn_frailty_shape: float | None = None  # gamma shape of each client's hazard multiplier
    meetings_per_month: float = 3.0
    proposal_rate: float = 0.5
    close_rate: float = 0.35
    cycle_days: tuple[int, int] = (10, 75)
    seats_median: float = 15.0
    seats_sigma: float = 0.6
    price_per_seat: float = 120.0
    price_noise: float = 0.10
    price_rise_month: int | None = None  # months after the records start
    price_after: float = 140.0
    tickets_per_endpoint: float = 0.9
    ticket_frailty_shape: float | None = None
    seasonal_amplitude: float = 0.0
    hours_mean: float = 1.0
    hours_sigma: float = 0.6
    escalation_share: float = 0.15
    endpoints_per_seat: float = 1.2
    projects_per_month: float = 0.6
    project_median: float = 6_000.0
    tech_turnover_annual: float = 0.2
    book_at_start: int = 22
    pre_months: int = 60


@dataclass
class _Client:
    name: str
    start: datetime.date
    seats: float
    fee: float
    churn_mult: float
    ticket_mult: float
    end: datetime.date | None = None
    spells: list[list] = field(default_factory=list)  # [start, end, seats, fee]


def month(start: datetime.date, k: int) -> datetime.date:
    index = start.year * 12 + start.month - 1 + k
    return datetime.date(index // 12, index % 12 + 1, 1)


class Business:
    """One MSP drawn from :class:`Params`, its records starting at ``records_start``."""

    def __init__(self, params: Params, rng: np.random.Generator,
                 records_start: datetime.date = datetime.date(2022, 1, 1), *,
                 tickets: bool = True):
        self.p = params
        self.with_tickets = tickets
        self.rng = rng
        self.records_start = records_start
        self.clients: list[_Client] = []
        self.deals: list[Deal] = []
        self.tickets: list[Ticket] = []
        self.pnl: list[PnlMonth] = []
        self.pending: list[tuple[datetime.date, str]] = []
        self.techs = [f"Tech {k}" for k in range(1, 4)]
        self.next_tech = 4
        self.count = 0
        self.price = params.price_per_seat
        self.t = -params.pre_months  # months after records_start
        # the book of pre_months ago: clients of various ages
        for _ in range(max(1, params.book_at_start // 2)):
            age = int(rng.integers(0, 48))
            self._sign(month(records_start, self.t - age) + datetime.timedelta(
                days=int(rng.integers(0, 28))))
        while self.t < 0:
            self._month(record=False, tickets=tickets)

    # -- the process --------------------------------------------------------------

    def _sign(self, day: datetime.date, name: str | None = None) -> None:
        p, rng = self.p, self.rng
        self.count += 1
        seats = float(max(1, round(p.seats_median * np.exp(p.seats_sigma
                                                           * rng.standard_normal()))))
        fee = round(seats * self.price * float(rng.uniform(1 - p.price_noise,
                                                           1 + p.price_noise)), 2)
        cm = rng.gamma(p.churn_frailty_shape, 1 / p.churn_frailty_shape) \
            if p.churn_frailty_shape else 1.0
        tm = rng.gamma(p.ticket_frailty_shape, 1 / p.ticket_frailty_shape) \
            if p.ticket_frailty_shape else 1.0
        c = _Client(name or f"Client {self.count:04d}", day, seats, fee, cm, tm)
        c.spells.append([day, None, seats, fee])
        self.clients.append(c)

    def _month(self, record: bool = True, tickets: bool = True) -> None:
        p, rng = self.p, self.rng
        first = month(self.records_start, self.t)
        nxt = month(self.records_start, self.t + 1)
        days = (nxt - first).days
        if p.price_rise_month is not None and self.t == p.price_rise_month \
                and self.price != p.price_after:
            ratio = p.price_after / self.price
            self.price = p.price_after
            for c in self.clients:
                if c.end is None:
                    c.spells[-1][1] = first
                    c.fee = round(c.fee * ratio, 2)
                    c.spells.append([first, None, c.seats, c.fee])
        # first meetings and their deals
        for _ in range(int(rng.poisson(p.meetings_per_month))):
            day = first + datetime.timedelta(days=int(rng.integers(0, days)))
            proposal = bool(rng.random() < p.proposal_rate)
            won = proposal and bool(rng.random() < p.close_rate)
            close = day + datetime.timedelta(days=int(rng.integers(*p.cycle_days)))
            name = f"Prospect {len(self.deals) + 1:05d}"
            self.deals.append(Deal(day, name, proposal, "won" if won else "lost", close,
                                   len(self.deals) + 2))
            if won:
                self.pending.append((close, name))
        signing = [(d, n) for d, n in self.pending if first <= d < nxt]
        self.pending = [(d, n) for d, n in self.pending if d >= nxt]
        # churn of the clients there at the month's start
        h0 = -np.log1p(-p.churn_annual) / 12
        for c in self.clients:
            if c.end is None and c.start < first:
                if rng.random() < 1 - np.exp(-h0 * c.churn_mult):
                    c.end = first + datetime.timedelta(days=int(rng.integers(0, days)))
                    c.spells[-1][1] = c.end
        for day, name in signing:
            self._sign(day, name)
        if tickets:
            self._tickets(first, nxt, record)
        if record:
            projects = float(np.sum(p.project_median * np.exp(
                rng.standard_normal(rng.poisson(p.projects_per_month)))))
            active = sum(c.seats for c in self.clients if c.end is None)
            self.pnl.append(PnlMonth(first, round(active * 20.0 + rng.normal(8_000, 800), 2),
                                     round(4_000 + projects, 2),
                                     round(float(rng.normal(12_000, 600)), 2),
                                     len(self.pnl) + 2))
        self.t += 1

    def _tickets(self, first: datetime.date, nxt: datetime.date, record: bool) -> None:
        p, rng = self.p, self.rng
        season = 1 + p.seasonal_amplitude * np.cos(2 * np.pi * (first.month - 1) / 12)
        mu = np.log(p.hours_mean) - p.hours_sigma ** 2 / 2
        # staff turnover, and a headcount that follows last month's hours
        q = 1 - (1 - p.tech_turnover_annual) ** (1 / 12)
        for k in range(len(self.techs)):
            if rng.random() < q:
                self.techs[k] = f"Tech {self.next_tech}"
                self.next_tech += 1
        hours_total = 0.0
        for c in self.clients:
            lo, hi = max(c.start, first), min(c.end or nxt, nxt)
            if hi <= lo:
                continue
            rate = p.tickets_per_endpoint * c.ticket_mult * season
            exposure = round(c.seats * p.endpoints_per_seat) * (hi - lo).days / (365.25 / 12)
            n = int(rng.poisson(rate * exposure))
            if n == 0:
                continue
            offsets = rng.integers(0, max((hi - lo).days, 1), size=n)
            hours = np.round(np.exp(mu + p.hours_sigma * rng.standard_normal(n)), 2)
            hours_total += float(hours.sum())
            if not record:
                continue
            owner = rng.random(n) < p.escalation_share
            who = rng.integers(0, len(self.techs), size=n)
            for j in range(n):
                created = lo + datetime.timedelta(days=int(offsets[j]))
                self.tickets.append(Ticket(created, created, c.name, float(hours[j]),
                                           "Owner" if owner[j] else self.techs[who[j]],
                                           len(self.tickets) + 2))
        want = max(1, int(round(hours_total * (1 - p.escalation_share) / (140 * 0.65))))
        if want > len(self.techs) + 1 or want < len(self.techs) - 1:
            step = 1 if want > len(self.techs) else -1
            if step > 0:
                self.techs.append(f"Tech {self.next_tech}")
                self.next_tech += 1
            elif len(self.techs) > 1:
                self.techs.pop()

    # -- what the tests see ------------------------------------------------------

    def run(self, months: int) -> None:
        """Run ``months`` recorded months."""
        for _ in range(months):
            self._month(tickets=self.with_tickets)

    @property
    def as_of(self) -> datetime.date:
        return month(self.records_start, self.t) - datetime.timedelta(days=1)

    def history(self) -> dict:
        """The records as exported on the as-of date: clients (one per stay, with its
        agreement rows) active at the records' start or signed since; deals, tickets
        and P&L months since the records' start."""
        as_of, start = self.as_of, self.records_start
        clients = []
        for c in self.clients:
            if c.start > as_of or (c.end is not None and c.end < start):
                continue
            spells = tuple(Spell(s[0], s[1] if s[1] is not None and s[1] <= as_of else None,
                                 s[2], s[3], len(clients) + 2) for s in c.spells
                           if s[0] <= as_of)
            end = c.end if c.end is not None and c.end <= as_of else None
            clients.append(Client(c.name, c.start, end, c.seats,
                                  round(c.seats * self.p.endpoints_per_seat), spells[-1].fee,
                                  len(clients) + 2, spells if len(spells) > 1 else ()))
        deals = [d if d.close_date <= as_of else Deal(d.date, d.prospect, d.proposal, "open",
                                                      None, d.row)
                 for d in self.deals if start <= d.date <= as_of]
        tickets = [t for t in self.tickets if start <= t.created <= as_of]
        return {"clients": clients, "deals": deals, "tickets": tickets, "pnl": list(self.pnl),
                "as_of": as_of, "owner": "Owner"}

    def futures(self, months: int, n: int, seed: int) -> dict[str, np.ndarray]:
        """``n`` continuations of this business for ``months`` months from its state
        now: managed MRR and clients at each month's end, shape ``(n, months)``."""
        mrr = np.empty((n, months))
        count = np.empty((n, months))
        new = np.zeros((n, months))
        lost = np.zeros((n, months))
        for k in range(n):
            world = copy.copy(self)
            world.rng = np.random.default_rng([seed, k])
            world.clients = [copy.copy(c) for c in self.clients if c.end is None]
            for c in world.clients:
                c.spells = [list(s) for s in c.spells]
            world.pending = list(self.pending)
            world.deals, world.tickets, world.pnl = [], [], []
            world.techs = list(self.techs)
            for m in range(months):
                first = month(world.records_start, world.t)
                world._month(record=False, tickets=False)
                end = month(world.records_start, world.t) - datetime.timedelta(days=1)
                new[k, m] = sum(first <= c.start <= end for c in world.clients)
                lost[k, m] = sum(c.end is not None and first <= c.end <= end
                                 for c in world.clients)
                active = [c for c in world.clients if c.start <= end and
                          (c.end is None or c.end > end)]
                mrr[k, m] = sum(c.fee for c in active)
                count[k, m] = len(active)
        return {"mrr_managed": mrr, "customers": count, "new_customers": new,
                "churned": lost}


VARIANTS: dict[str, Params] = {
    "plain": Params(),
    "heterogeneous": Params(churn_frailty_shape=1.5, ticket_frailty_shape=2.0,
                            seasonal_amplitude=0.25, price_rise_month=20, price_after=140.0,
                            projects_per_month=0.4, project_median=15_000.0),
}
"""The two worlds of the tests: a plain one, and one with client heterogeneity,
seasonality, a price rise and lumpy projects (both with a book in place)."""


def write_exports(h: dict, folder: Path, flavor: str = "native") -> dict[str, Path]:
    """The history as a PSA would export it: ``native`` (ISO dates), ``connectwise``
    (US dates, agreement rows, opportunity stages), ``halo`` (day-first dates with
    times)."""
    folder.mkdir(parents=True, exist_ok=True)
    fmt = {"native": "%Y-%m-%d", "connectwise": "%m/%d/%Y",
           "halo": "%d/%m/%Y %H:%M"}[flavor]

    def d(x: datetime.date | None) -> str:
        return "" if x is None else x.strftime(fmt)

    rows_c = []
    for c in h["clients"]:
        for s in (c.spells or (Spell(c.start, c.end, c.seats, c.monthly_fee, c.row),)):
            rows_c.append([c.name, d(s.start), d(s.end), f"{s.seats:g}", f"{c.endpoints:g}",
                           f"{s.fee:.2f}"])
    heads = {
        "native": (["client", "start_date", "end_date", "seats", "endpoints", "monthly_fee"],
                   ["date", "prospect", "proposal", "outcome", "close_date"],
                   ["created", "closed", "client", "hours", "resource"]),
        "connectwise": (["Company", "Agreement Start", "Agreement End", "Quantity", "Devices",
                         "Monthly Amount"],
                        ["Created Date", "Company Name", "Stage", "Close Date"],
                        ["Ticket #", "Company", "Date Entered", "Closed Date", "Actual Hours",
                         "Primary Resource", "Board"]),
        "halo": (["Client Name", "Contract Start", "Contract End", "Users", "Devices", "MRR"],
                 ["Date Created", "Account", "Status", "Date Closed"],
                 ["Request ID", "Client Name", "Date Logged", "Date Closed", "Time Taken",
                  "Agent", "Request Type"]),
    }[flavor]
    out = {}

    def write(name: str, header: list[str], rows: list[list[str]]) -> None:
        path = folder / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        out[name] = path

    write("clients", heads[0], rows_c)
    if flavor == "native":
        write("pipeline", heads[1], [[d(x.date), x.prospect, "yes" if x.proposal else "no",
                                      x.outcome, d(x.close_date)] for x in h["deals"]])
        write("tickets", heads[2], [[d(t.created), d(t.closed), t.client, f"{t.hours:g}",
                                     t.resource] for t in h["tickets"]])
    else:
        stage = {"won": "Closed Won", "open": "Proposal"}

        def st(x: Deal) -> str:
            if x.outcome == "lost":
                return "Closed Lost" if x.proposal else "No Decision"
            return stage[x.outcome] if x.proposal or x.outcome == "won" else "Qualification"
        write("pipeline", heads[1], [[d(x.date), x.prospect, st(x), d(x.close_date)]
                                     for x in h["deals"]])
        rows = [[str(1000 + k), t.client, d(t.created), d(t.closed), f"{t.hours:g}",
                 t.resource, "Service Desk"] for k, t in enumerate(h["tickets"])]
        rows.append([str(999_999), h["clients"][0].name, d(h["tickets"][-1].created), "",
                     "3", "Tech 1", "Internal"])
        write("tickets", heads[2], rows)
    write("pnl", ["month", "revenue_products", "revenue_projects", "overhead"],
          [[m.month.isoformat()[:7], f"{m.revenue_products:.2f}", f"{m.revenue_projects:.2f}",
            f"{m.overhead:.2f}"] for m in h["pnl"]])
    return out
