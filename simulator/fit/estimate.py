"""Posterior distributions of the model's rates, from a business's records.

Each rate keeps the uncertainty of the data it comes from, so a shop with 20
clients gets a wider churn distribution than one with 200:

* churn: client tenures, censored at the as-of date for active clients
  (:class:`scipy.stats.CensoredData`, exponential MLE for the comment); the
  hazard's posterior is Gamma(events + 1/2, client-years) (Jeffreys), and the
  annual rate ``1 - exp(-hazard)`` is written as the beta of the same mean and sd;
* proposal and close rates: Beta(successes + 1/2, failures + 1/2);
* first meetings a month and tickets per endpoint-month: Gamma(count + 1/2,
  exposure), written as the lognormal of the same mean and sd;
* hours per ticket (the model's per-path mean hours): the sample mean's
  sampling distribution, normal with its standard error;
* escalation share: the owner's share of ticket hours, a ratio estimate with
  its delta-method standard error, as a beta;
* new clients' seats: a lognormal fitted to the book (:func:`scipy.stats.lognorm.fit`);
* the P&L: legacy product and project revenue (mean of the last 3 months) and
  the fixed overhead (last 12 months, less the per-employee and per-customer
  parts the model adds itself).

Every :class:`Fitted` carries its 90% interval (the written distribution's 5th
and 95th percentiles), the count behind it and a comment for the config.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ..config.distributions import parse_distribution
from .records import Client, Deal, PnlMonth, Ticket

__all__ = ["Fitted", "FitResult", "beta_of", "fit_records", "lognormal_of"]

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


@dataclass(frozen=True)
class Fitted:
    """One fitted config value.

    Attributes
    ----------
    key : str
        Dotted config key.
    value : number or dict
        What the config gets: a number, or a distribution table.
    estimate : float
        The point estimate (posterior mean) of the quantity.
    interval90 : (float, float)
        The written distribution's 5th and 95th percentiles.
    count : float
        The events or observations behind it.
    source : str
        The file it comes from.
    comment : str
        The line written beside it in the config.
    """

    key: str
    value: Any
    estimate: float
    interval90: tuple[float, float]
    count: float
    source: str
    comment: str

    def show(self, x: float) -> str:
        """A number of this value as a person reads it: money in dollars (``$55,000``,
        ``$1.82``), other values in plain digits (``0.1157``, ``15,548``), never in
        e-notation."""
        from ..config.schema import param_specs
        from ..formatting import money

        spec = param_specs().get(self.key)
        if isinstance(self.value, list) or (spec is not None and spec.unit.startswith("$")):
            return money(x) if abs(x) >= 100 else f"${x:,.2f}"
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"

    def line(self) -> str:
        """The fit log's line: ``key = estimate (90% interval ...): comment``, in
        :meth:`show`'s words."""
        if isinstance(self.value, list):
            return f"{self.key}: {len(self.value)} clients, {self.show(self.estimate)}/month: " \
                   f"{self.comment}"
        low, high = self.interval90
        interval = "" if low == high else f" (90% interval {self.show(low)} to {self.show(high)})"
        return f"{self.key} = {self.show(self.estimate)}{interval}: {self.comment}"


@dataclass
class FitResult:
    """Everything fitted from a business's records."""

    as_of: datetime.date
    fitted: list[Fitted]
    warnings: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str) -> Fitted | None:
        """The fitted value of ``key``, if any."""
        return next((f for f in self.fitted if f.key == key), None)


# -- distributions of a given mean and sd ------------------------------------------


def beta_of(mean: float, sd: float) -> dict[str, Any]:
    """The config table of the beta with this mean and sd (sd shrunk inside the beta's
    limit when the data pin the mean near 0 or 1)."""
    mean = min(max(mean, 1e-6), 1 - 1e-6)
    sd = min(max(sd, 1e-9), 0.999 * math.sqrt(mean * (1 - mean)))
    return {"dist": "beta", "mean": float(mean), "sd": float(sd)}


def lognormal_of(mean: float, sd: float) -> dict[str, Any]:
    """The config table of the lognormal with this mean and sd."""
    sigma2 = math.log1p((sd / mean) ** 2)
    return {"dist": "lognormal", "median": float(mean / math.sqrt(1 + (sd / mean) ** 2)),
            "sigma": float(math.sqrt(sigma2))}


def _interval(table: dict[str, Any] | float) -> tuple[float, float]:
    if not isinstance(table, dict):
        return float(table), float(table)
    frozen = parse_distribution(table).frozen()
    return float(frozen.ppf(0.05)), float(frozen.ppf(0.95))


def _fitted(key: str, value: Any, estimate: float, count: float, source: str,
            comment: str) -> Fitted:
    return Fitted(key, value, float(estimate), _interval(value), float(count), source, comment)


# -- the fits ------------------------------------------------------------------------


def fit_churn(clients: Sequence[Client], as_of: datetime.date, source: str) -> Fitted | None:
    """``churn.annual_rate`` from tenures (censored at ``as_of`` while active)."""
    tenures = _tenures(clients, as_of)
    ended, active = tenures["ended"], tenures["active"]
    exposure = sum(ended) + sum(active)
    if exposure <= 0:
        return None
    events = len(ended)
    a, b = events + 0.5, exposure
    # 1 - exp(-hazard) with hazard ~ Gamma(a, rate b): mean and sd in closed form
    m1 = (b / (b + 1)) ** a
    m2 = (b / (b + 2)) ** a
    mean, sd = 1 - m1, math.sqrt(max(m2 - m1 * m1, 0.0))
    mle = ""
    if events:
        data = stats.CensoredData(uncensored=np.maximum(ended, 1e-9),
                                  right=np.maximum(active, 1e-9))
        _, scale = stats.expon.fit(data, floc=0)
        mle = f"; MLE {100 * (1 - math.exp(-1 / scale)):.1f}%/year"
    return _fitted("churn.annual_rate", beta_of(mean, sd), mean, events, source,
                   f"fitted from {source}: {events} cancellations in {exposure:.0f} "
                   f"client-years{mle}")


def _mean_of(key: str, values: np.ndarray, low: float, source: str, what: str
             ) -> Fitted | None:
    """A per-path mean: normal with the sample mean and its standard error (``what`` is
    formatted with ``n`` and ``se``); ``None`` without two different values."""
    if values.size < 2 or not values.std(ddof=1) > 0:
        return None
    mean, se = float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))
    return _fitted(key, {"dist": "normal", "mean": mean, "sd": se, "low": low}, mean,
                   values.size, source, f"fitted from {source}: "
                   + what.format(n=values.size, se=se))


def _rate_beta(key: str, successes: int, trials: int, source: str, what: str
               ) -> Fitted | None:
    if trials <= 0:
        return None
    a, b = successes + 0.5, trials - successes + 0.5
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return _fitted(key, beta_of(mean, sd), mean, trials, source,
                   f"fitted from {source}: {successes} of {trials} {what}")


def fit_pipeline(deals: Sequence[Deal], as_of: datetime.date, selling_hours: float,
                 source: str) -> list[Fitted]:
    """Meetings per selling hour, proposal rate and close rate."""
    out = []
    meetings = len(deals)
    proposals = sum(d.proposal for d in deals)
    won = sum(d.outcome == "won" for d in deals)
    lost = sum(d.outcome == "lost" and d.proposal for d in deals)
    start = min(d.date for d in deals).replace(day=1)  # the history starts with a month
    months = max((as_of - start).days / DAYS_PER_MONTH, 1.0)
    a, b = meetings + 0.5, months
    mean, sd = a / b / selling_hours, math.sqrt(a) / b / selling_hours
    out.append(_fitted("sales.meetings_per_selling_hour", lognormal_of(mean, sd), mean,
                       meetings, source,
                       f"fitted from {source}: {meetings} first meetings in {months:.0f} "
                       f"months, over {selling_hours:g} selling hours a month"))
    fitted = _rate_beta("sales.proposal_rate", proposals, meetings, source,
                        "first meetings led to a proposal")
    if fitted:
        out.append(fitted)
    fitted = _rate_beta("sales.close_rate", won, won + lost, source,
                        "decided proposals were won")
    if fitted:
        out.append(fitted)
    return out


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


def fit_tickets(tickets: Sequence[Ticket], clients: Sequence[Client] | None,
                owner: str | None, endpoints_per_seat: float, source: str,
                as_of: datetime.date | None = None) -> list[Fitted]:
    """Tickets per endpoint (needs the clients), hours per ticket, escalation share, and
    the technicians (resources besides the owner in the last 90 days)."""
    out = []
    first = min(t.created for t in tickets).replace(day=1)  # the history starts with a month
    last = max(t.created for t in tickets)
    end = max(last, as_of or last) + datetime.timedelta(days=1)
    if clients:
        exposure = endpoint_months(clients, first, end, endpoints_per_seat)
        if exposure > 0:
            n = len(tickets)
            a = n + 0.5
            mean, sd = a / exposure, math.sqrt(a) / exposure
            out.append(_fitted("tickets.per_endpoint_reactive", lognormal_of(mean, sd), mean,
                               n, source, f"fitted from {source}: {n} tickets in "
                               f"{exposure:,.0f} endpoint-months (a reactive book)"))
    hours = np.array([t.hours for t in tickets], dtype=np.float64)
    fitted = _mean_of("tickets.hours_reactive", hours, 0.0, source,
                      "mean of {n} tickets' hours, standard error {se:.3f}")
    if fitted:
        out.append(fitted)
    recent = last - datetime.timedelta(days=90)
    staff = {t.resource for t in tickets if t.created >= recent and t.resource != owner}
    if staff:
        out.append(Fitted("start.techs", len(staff), len(staff), (len(staff),) * 2, len(staff),
                          source, f"fitted from {source}: {len(staff)} resources besides the "
                          f"owner worked tickets in the 90 days to {last.isoformat()}"))
    if owner is not None and hours.sum() > 0:
        mine = np.array([t.hours if t.resource == owner else 0.0 for t in tickets])
        share = float(mine.sum() / hours.sum())
        n = hours.size
        if 0 < share < 1 and n >= 2:
            resid = mine - share * hours
            se = math.sqrt(float(np.sum(resid ** 2)) / (n * (n - 1))) / float(hours.mean())
            out.append(_fitted("staff.escalation_share", beta_of(share, se), share, n, source,
                               f"fitted from {source}: the owner ({owner}) worked "
                               f"{100 * share:.1f}% of {hours.sum():,.0f} ticket hours"))
    return out


def months_between(start: datetime.date, end: datetime.date) -> int:
    """Whole months from ``start`` to ``end`` (0 within the first month)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(0, months - (end.day < start.day))


def fit_book(clients: Sequence[Client], as_of: datetime.date, source: str) -> list[Fitted]:
    """The book today exactly (``start.book``: every active client's seats, fee and months
    into its contract), and the seats and price of new clients."""
    out = []
    active = [c for c in clients if c.end is None or c.end > as_of]
    book = [{"client": c.name, "seats": c.seats, "monthly_fee": c.monthly_fee,
             "contract_month": months_between(c.start, as_of)} for c in active]
    out.append(Fitted("start.book", book, sum(c.monthly_fee for c in active),
                      (0.0, 0.0), len(active), source,
                      f"fitted from {source}: the {len(active)} active clients exactly"))
    endpoints = [(c.endpoints, c.seats) for c in clients if c.endpoints is not None]
    if endpoints:
        ratio = sum(e for e, _ in endpoints) / sum(s for _, s in endpoints)
        out.append(Fitted("customers.endpoints_per_seat", round(ratio, 4), ratio,
                          (ratio, ratio), len(endpoints), source,
                          f"fitted from {source}: {sum(e for e, _ in endpoints):,.0f} endpoints "
                          f"on {sum(s for _, s in endpoints):,.0f} seats"))
    out.append(Fitted("start.customers", len(active), len(active), (len(active),) * 2,
                      len(active), source, f"fitted from {source}: {len(active)} active "
                      f"clients on {as_of.isoformat()}, ${sum(c.monthly_fee for c in active):,.0f}"
                      "/month managed services"))
    seats = np.array([c.seats for c in clients], dtype=np.float64)
    if seats.size >= 3 and seats.std() > 0:
        sigma, _, scale = stats.lognorm.fit(seats, floc=0)
        table = {"dist": "lognormal", "median": float(scale), "sigma": float(sigma),
                 "low": 1.0, "high": float(max(2 * seats.max(), 10))}
        out.append(_fitted("customers.seats", table, float(seats.mean()), seats.size, source,
                           f"fitted from {source}: lognormal of {seats.size} clients' seats "
                           "(scipy.stats.lognorm.fit)"))
    prices = np.array([c.monthly_fee / c.seats for c in clients], dtype=np.float64)
    fitted = _mean_of("customers.price_per_seat", prices, 1.0, source,
                      "mean fee per seat of {n} clients, standard error ${se:.2f}")
    if fitted:
        out.append(fitted)
    return out


def fit_pnl(months: Sequence[PnlMonth], techs: float | None, customers: float | None,
            per_employee: float, per_customer: float, source: str,
            managed_products: float = 0.0, managed_projects: float = 0.0) -> list[Fitted]:
    """Legacy revenue lines (last 3 months, less what the model makes the managed book buy:
    ``managed_products`` and ``managed_projects`` $/month) and the fixed overhead (last 12
    months, less the per-employee and per-customer parts the model adds)."""
    last3, last12 = months[-3:], months[-12:]
    products_all = float(np.mean([m.revenue_products for m in last3]))
    projects_all = float(np.mean([m.revenue_projects for m in last3]))
    products = max(0.0, products_all - managed_products)
    projects = max(0.0, projects_all - managed_projects)
    overhead = float(np.mean([m.overhead for m in last12]))
    fixed = max(0.0, overhead - per_employee * (techs or 0) - per_customer * (customers or 0))
    span = f"{last3[0].month.isoformat()[:7]} to {last3[-1].month.isoformat()[:7]}"
    return [
        Fitted("start.legacy_product_revenue", products, products, (products, products),
               len(last3), source, f"fitted from {source}: ${products_all:,.0f}/month "
               f"({span}) less ${managed_products:,.0f} the managed book buys in the model"),
        Fitted("start.legacy_project_revenue", projects, projects, (projects, projects),
               len(last3), source, f"fitted from {source}: ${projects_all:,.0f}/month "
               f"({span}) less ${managed_projects:,.0f} of managed clients' projects in the "
               "model"),
        Fitted("finance.overhead_per_month", fixed, fixed, (fixed, fixed), len(last12), source,
               f"fitted from {source}: ${overhead:,.0f}/month over {len(last12)} months, less "
               "the per-employee and per-customer overhead the model adds"),
    ]


def fit_records(
    clients: Sequence[Client] | None = None,
    deals: Sequence[Deal] | None = None,
    tickets: Sequence[Ticket] | None = None,
    pnl: Sequence[PnlMonth] | None = None,
    *,
    sources: dict[str, str] | None = None,
    owner: str | None = None,
    as_of: datetime.date | None = None,
    selling_hours: float = 40.0,
    endpoints_per_seat: float = 1.2,
    per_employee_overhead: float = 400.0,
    per_customer_overhead: float = 100.0,
    product_spend_per_seat_year: float = 250.0,
    project_revenue_per_customer_year: float = 0.0,
) -> FitResult:
    """Fit every value the records hold (see the module docstring)."""
    sources = sources or {}
    dates: list[datetime.date] = []
    for c in clients or ():
        dates += [c.start] + ([c.end] if c.end else [])
    dates += [d.date for d in deals or ()] + [t.created for t in tickets or ()]
    dates += [m.month for m in pnl or ()]
    if as_of is None:
        as_of = max(dates) if dates else datetime.date.today()
    result = FitResult(as_of=as_of, fitted=[], files=dict(sources))
    if clients:
        src = sources.get("clients", "clients")
        churn = fit_churn(clients, as_of, src)
        if churn:
            result.fitted.append(churn)
            if churn.count < 5:
                result.warnings.append(f"churn: only {churn.count:.0f} cancellations in "
                                       f"{src}: the churn distribution is wide")
        result.fitted += fit_book(clients, as_of, src)
        result.curves["tenures"] = _tenures(clients, as_of)
    if deals:
        src = sources.get("pipeline", "pipeline")
        result.fitted += fit_pipeline(deals, as_of, selling_hours, src)
        proposals = sum(d.outcome in ("won", "lost") and d.proposal for d in deals)
        if proposals < 10:
            result.warnings.append(f"close rate: only {proposals} decided proposals in {src}")
    if tickets:
        src = sources.get("tickets", "tickets")
        result.fitted += fit_tickets(tickets, clients, owner, endpoints_per_seat, src, as_of)
        if owner is None:
            result.warnings.append("escalation share: not fitted (give --owner NAME, the "
                                   "owner's resource in the tickets)")
        result.curves["tickets_by_month"] = _tickets_by_month(tickets, clients or (),
                                                              endpoints_per_seat)
        drift = _drift(tickets, clients or (), endpoints_per_seat)
        if drift:
            result.warnings.append(drift)
    if pnl:
        src = sources.get("pnl", "pnl")
        customers = result.get("start.customers")
        techs = result.get("start.techs")
        active = [c for c in clients or () if c.end is None or c.end > as_of]
        seats = sum(c.seats for c in active)
        result.fitted += fit_pnl(pnl, None if techs is None else techs.value,
                                 None if customers is None else customers.value,
                                 per_employee_overhead, per_customer_overhead, src,
                                 managed_products=product_spend_per_seat_year * seats / 12,
                                 managed_projects=project_revenue_per_customer_year
                                 * len(active) / 12)
    return result


def _tenures(clients: Sequence[Client], as_of: datetime.date) -> dict[str, Any]:
    ended = [(c.end - c.start).days / DAYS_PER_YEAR for c in clients
             if c.end is not None and c.end <= as_of]
    active = [(as_of - c.start).days / DAYS_PER_YEAR for c in clients
              if c.end is None or c.end > as_of]
    return {"ended": ended, "active": active}


def _tickets_by_month(tickets: Sequence[Ticket], clients: Sequence[Client],
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


def _drift(tickets: Sequence[Ticket], clients: Sequence[Client], endpoints_per_seat: float
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
