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
from scipy import optimize, special, stats

from ..config.distributions import parse_distribution
from .history import (
    DAYS_PER_MONTH,
    active_clients,
    client_month_counts,
    client_tenures,
    months_between,
    records_until,
    records_window,
    technicians_by_month,
    ticket_drift,
    tickets_by_month,
)
from .records import Client, Deal, PnlMonth, Ticket, WorkEntry

__all__ = ["Fitted", "FitResult", "beta_of", "fit_records", "lognormal_of"]



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
    replay: Any = None
    base: dict[str, Any] = field(default_factory=dict)
    held: dict[str, Any] = field(default_factory=dict)

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


def interval90_of(table: dict[str, Any] | float) -> tuple[float, float]:
    """The 90% interval (5th to 95th percentile) of a fitted value: a number, or a
    distribution table."""
    if not isinstance(table, dict):
        return float(table), float(table)
    frozen = parse_distribution(table).frozen()
    return float(frozen.ppf(0.05)), float(frozen.ppf(0.95))


def _fitted(key: str, value: Any, estimate: float, count: float, source: str,
            comment: str) -> Fitted:
    return Fitted(key, value, float(estimate), interval90_of(value), float(count), source, comment)


# -- the fits ------------------------------------------------------------------------


def fit_churn(clients: Sequence[Client], as_of: datetime.date, source: str,
              window_start: datetime.date | None = None) -> Fitted | None:
    """``churn.annual_rate`` from client stays, censored at ``as_of`` while active and
    left-truncated at ``window_start`` (the records' first date): a client already in
    place then counts exposure from then on, since clients who left before it are not
    in the export (counting their earlier tenure would bias churn low)."""
    tenures = client_tenures(clients, as_of, window_start)
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
        mle = f"; MLE {100 * (1 - math.exp(-events / exposure)):.1f}%/year"
    truncated = tenures["truncated"]
    note = (f", {truncated} clients already in place on {window_start.isoformat()} counted "
            "from then (left truncation)") if truncated and window_start else ""
    return _fitted("churn.annual_rate", beta_of(mean, sd), mean, events, source,
                   f"fitted from {source}: {events} cancellations in {exposure:.0f} "
                   f"client-years{mle}{note}")


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
    cycles = np.array([(d.close_date - d.date).days / DAYS_PER_MONTH for d in deals
                       if d.outcome == "won" and d.close_date is not None], dtype=np.float64)
    if cycles.size >= 3:
        mean = float(cycles.mean())
        out.append(Fitted("sales.cycle_months", round(mean, 2), mean, (mean, mean),
                          cycles.size, source, f"fitted from {source}: mean months from the "
                          f"first meeting to the signing of {cycles.size} won deals"))
    return out


def fit_tickets(tickets: Sequence[Ticket], clients: Sequence[Client] | None,
                owner: str | None, endpoints_per_seat: float, source: str,
                as_of: datetime.date | None = None,
                work: Sequence[WorkEntry] | None = None) -> list[Fitted]:
    """Tickets per endpoint (needs the clients), hours per ticket, escalation share, and
    the technicians (resources besides the owner in the last 90 days)."""
    out = []
    first = min(t.created for t in tickets).replace(day=1)  # the history starts with a month
    last = max(t.created for t in tickets)
    end = max(last, as_of or last) + datetime.timedelta(days=1)
    if clients:
        fitted = fit_ticket_rate(tickets, clients, first, end, endpoints_per_seat, source)
        if fitted:
            out.append(fitted)
    hours = np.array([t.hours for t in tickets], dtype=np.float64)
    fitted = _mean_of("tickets.hours_reactive", hours, 0.0, source,
                      "mean of {n} tickets' hours, standard error {se:.3f}")
    if fitted:
        out.append(fitted)
    staff = technicians_by_month(tickets, work or (), owner)
    if staff["techs"]:
        now = int(staff["now"])
        out.append(Fitted("start.techs", now, now, (now, now), now, source,
                          f"fitted from {source}: resources besides the owner with tickets "
                          f"or time entries, the median of the last three whole months to "
                          f"{last.isoformat()}"))
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


def fit_ticket_rate(tickets: Sequence[Ticket], clients: Sequence[Client],
                    first: datetime.date, end: datetime.date, endpoints_per_seat: float,
                    source: str) -> Fitted | None:
    """``tickets.per_endpoint_reactive``: tickets over endpoint-months by client-month,
    with month-of-year effects and a client-clustered (sandwich) standard error, so
    over-dispersion, client-to-client differences and seasonality widen the interval
    instead of being taken for Poisson noise. The rate is the mean over the months of
    the year (a history of 30 months does not weigh three winters double)."""
    n, e, moy, who = client_month_counts(tickets, clients, first, end, endpoints_per_seat)
    if e.sum() <= 0 or n.sum() < 1:
        return None
    by_moy_n = np.bincount(moy, weights=n, minlength=12)
    by_moy_e = np.bincount(moy, weights=e, minlength=12)
    seen = by_moy_e > 0
    # month-of-year effects beside each client's own rate: the Poisson log-linear model
    # with client and month-of-year effects, fitted by iterative proportional fitting (a
    # client signed in spring would otherwise pass for a season)
    season = np.ones(12)
    g_all = int(who.max()) + 1
    for _ in range(50):
        own = np.bincount(who, weights=n, minlength=g_all) / np.maximum(
            np.bincount(who, weights=season[moy] * e, minlength=g_all), 1e-12)
        expected = np.bincount(moy, weights=own[who] * e, minlength=12)
        new = np.where(seen & (expected > 0), by_moy_n / np.where(expected > 0, expected, 1),
                       1.0)
        new = np.where(seen, new / new[seen].mean(), 1.0) if new[seen].mean() > 0 else new
        done = np.max(np.abs(new - season)) < 1e-6
        season = new
        if done:
            break
    # each client's tickets over its season-adjusted exposure, negative binomial across
    # clients (a gamma-distributed rate of their own around the common mean): the rate
    # by maximum likelihood, its 90% interval from the observed information
    g = int(who.max()) + 1
    n_i = np.bincount(who, weights=n, minlength=g)
    x_i = np.bincount(who, weights=season[moy] * e, minlength=g)
    keep = x_i > 0
    n_i, x_i = n_i[keep], x_i[keep]
    g = int(keep.sum())
    rate, (low, high), shape = negative_binomial_rate(n_i, x_i)
    # a few clients estimate their spread poorly: Student's t over the clients
    widen = float(stats.t.ppf(0.95, max(g - 1, 1)) / stats.norm.ppf(0.95)) \
        * math.sqrt(g / max(g - 1, 1))
    sigma = max(widen * (math.log(high) - math.log(low)) / (2 * stats.norm.ppf(0.95)), 1e-6)
    low, high = rate * math.exp(-stats.norm.ppf(0.95) * sigma), \
        rate * math.exp(stats.norm.ppf(0.95) * sigma)
    tau2 = rate ** 2 / shape if math.isfinite(shape) else 0.0
    seasonal = season
    spread = float(seasonal[seen].max() - seasonal[seen].min()) if seen.sum() > 1 else 0.0
    note = f"; months of the year from {seasonal[seen].min():.2f}x to " \
           f"{seasonal[seen].max():.2f}x (the model has no seasons)" if spread > 0.3 else ""
    table = {"dist": "lognormal", "median": rate, "sigma": sigma}
    fitted = _fitted("tickets.per_endpoint_reactive", table, rate,
                     int(n.sum()), source, f"fitted from {source}: {int(n.sum())} tickets in "
                     f"{e.sum():,.0f} endpoint-months of {g} clients, negative binomial "
                     f"across clients (their own rates differ by sd {math.sqrt(tau2):.2f}), "
                     f"90% interval {low:.3f} to {high:.3f}{note}")
    return fitted


def negative_binomial_rate(counts: np.ndarray, exposure: np.ndarray
                           ) -> tuple[float, tuple[float, float], float]:
    """The common rate of counts over exposures when each unit has a gamma-distributed
    rate of its own (negative binomial, shape ``k``): the maximum-likelihood rate, its
    90% interval (log scale, observed information) and ``k`` (``inf``: no extra spread).
    :func:`scipy.stats.nbinom` and :mod:`scipy.optimize` do the work."""
    def loglik(log_rate: float, log_shape: float) -> float:
        # stats.nbinom.logpmf(counts, k, k / (k + mu)) less its constant, in one pass
        k = math.exp(log_shape)
        mu = math.exp(log_rate) * exposure
        return float(np.sum(special.gammaln(counts + k) + counts * np.log(mu)
                            - (counts + k) * np.log(k + mu))) + counts.size * (
            k * math.log(k) - float(special.gammaln(k)))

    start = math.log(max(counts.sum(), 0.5) / exposure.sum())
    fit = optimize.minimize(lambda th: -loglik(th[0], min(max(th[1], -6.0), 12.0)),
                            x0=[start, 1.0], method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-9})
    mle, log_shape = float(fit.x[0]), min(max(float(fit.x[1]), -6.0), 12.0)
    # the observed information of (log rate, log shape) by central differences; the
    # rate's interval on the log scale
    h = 1e-3
    f = [[-loglik(mle + a * h, log_shape + b * h) for b in (-1, 0, 1)] for a in (-1, 0, 1)]
    hess = np.array([[(f[2][1] - 2 * f[1][1] + f[0][1]) / h ** 2,
                      (f[2][2] - f[2][0] - f[0][2] + f[0][0]) / (4 * h ** 2)],
                     [0.0, (f[1][2] - 2 * f[1][1] + f[1][0]) / h ** 2]])
    hess[1, 0] = hess[0, 1]
    if log_shape > 11.5 or not np.linalg.det(hess) > 0:
        var = 1.0 / max(hess[0, 0], 1e-12)  # no extra spread: the rate alone
    else:
        var = float(np.linalg.inv(hess)[0, 0])
    half = float(stats.norm.ppf(0.95)) * math.sqrt(max(var, 0.0))
    low, high = mle - half, mle + half
    shape = math.exp(log_shape) if log_shape < 11.5 else math.inf
    return math.exp(mle), (math.exp(low), math.exp(high)), shape


def signing_prices(clients: Sequence[Client]) -> tuple[np.ndarray, np.ndarray]:
    """Each stay's price per seat when it signed, and the signing dates as ordinals,
    in date order."""
    pairs = []
    for c in clients:
        first = c.spells[0] if c.spells else None
        fee, seats = (first.fee, first.seats) if first else (c.monthly_fee, c.seats)
        if seats > 0:
            pairs.append((c.start.toordinal(), fee / seats))
    pairs.sort()
    return (np.array([p for _, p in pairs], dtype=np.float64),
            np.array([d for d, _ in pairs], dtype=np.float64))


def price_change_point(prices: np.ndarray, min_side: int = 3) -> tuple[int, float] | None:
    """The signing from which new clients' price per seat stepped: the least-squares
    split (the step's maximum-likelihood position) and its F-test p-value
    (:data:`scipy.stats.f`, Bonferroni over the splits); ``None`` without a step at 1%."""
    n = prices.size
    if n < 2 * min_side + 2:
        return None
    total = float(np.sum((prices - prices.mean()) ** 2))
    best: tuple[int, float] | None = None
    for k in range(min_side, n - min_side + 1):
        a, b = prices[:k], prices[k:]
        sse = float(np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2))
        if best is None or sse < best[1]:
            best = (k, sse)
    if best is None or best[1] <= 0:
        return (best[0], 0.0) if best is not None and total > 0 else None
    k, sse = best
    f = (total - sse) / (sse / (n - 2))
    p = float(stats.f.sf(f, 1, n - 2)) * (n - 2 * min_side + 1)
    return (k, min(p, 1.0)) if p < 0.01 else None


def fit_price(clients: Sequence[Client], source: str) -> list[Fitted]:
    """``customers.price_per_seat``, the price new clients sign at: today's price, from the
    signings after a price rise when there was one (:func:`price_change_point`); and
    ``customers.price_escalator`` from the agreements re-papered at a higher fee."""
    out = []
    prices, dates = signing_prices(clients)
    what = "mean fee per seat of {n} clients, standard error ${se:.2f}"
    rises = sorted(b.start for c in clients for a, b in zip(c.spells, c.spells[1:],
                                                             strict=False)
                   if a.seats > 0 and b.seats > 0 and b.fee / b.seats > 1.001 * a.fee / a.seats)
    since: datetime.date | None = None
    how = ""
    if len(rises) >= 3:
        # a price rise re-papered across the book: its date is when most were re-papered
        since = rises[len(rises) // 2] - datetime.timedelta(days=31)
        how = f"{len(rises)} agreements re-papered at a higher fee around " \
              f"{rises[len(rises) // 2].isoformat()}"
    else:
        step = price_change_point(prices)
        if step is not None:
            since = datetime.date.fromordinal(int(dates[step[0] - 1]) + 1)
            how = (f"new clients' price stepped from ${prices[:step[0]].mean():.2f} (F-test "
                   f"p = {step[1]:.1g})")
    if since is not None:
        # today's price: each client's latest agreement made since the change
        latest = []
        for c in clients:
            spells = c.spells or (None,)
            recent = [sp for sp in spells if sp is not None and sp.start >= since]
            if recent and recent[-1].seats > 0:
                latest.append(recent[-1].fee / recent[-1].seats)
            elif spells[0] is None and c.start >= since and c.seats > 0:
                latest.append(c.monthly_fee / c.seats)
        if len(latest) >= 2:
            prices = np.array(latest, dtype=np.float64)
            what = (f"mean fee per seat of the {{n}} agreements made since {since.isoformat()} "
                    f"(signed or re-papered), after a price change ({how}); standard error "
                    "${se:.2f}")
    fitted = _mean_of("customers.price_per_seat", prices, 1.0, source, what)
    if fitted:
        out.append(fitted)
    uplifts: list[float] = []
    stays = 0
    for c in clients:
        if not c.spells:
            continue
        stays += 1
        ordered = sorted(c.spells, key=lambda s: s.start)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if a.end is not None and abs((b.start - a.end).days) <= 31 and a.seats > 0 \
                    and b.seats > 0:
                uplifts.append((b.fee / b.seats) / (a.fee / a.seats) - 1)
    if stays:
        up = [u for u in uplifts if u > 0.001]
        # a one-off rise re-papered once per client is today's price (in the book), not a
        # rise at every renewal
        again = len(up) > stays
        value = float(np.mean(up)) if again else 0.0
        out.append(Fitted("customers.price_escalator", round(value, 4), value, (value, value),
                          len(uplifts), source, f"fitted from {source}: {len(up)} fee rises "
                          f"on {len(uplifts)} re-papered agreements of {stays} clients"
                          + ("" if again else "; at most one per client, read as a one-off "
                             "price change (today's fees are in the book)")))
    return out


def fit_book(clients: Sequence[Client], as_of: datetime.date, source: str) -> list[Fitted]:
    """The book today exactly (``start.book``: every active client's seats, fee and months
    into its contract), and the seats and price of new clients."""
    out = []
    active = active_clients(clients, as_of)
    book = [{"client": c.name, "seats": c.seats_at(as_of), "monthly_fee": c.fee_at(as_of),
             "contract_month": months_between(c.start, as_of)} for c in active]
    out.append(Fitted("start.book", book, sum(c.fee_at(as_of) for c in active),
                      (0.0, 0.0), len(active), source,
                      f"fitted from {source}: the {len(active)} active clients exactly"))
    endpoints = [(c.endpoints, c.seats) for c in clients if c.endpoints is not None]
    if endpoints:
        ratio = sum(e for e, _ in endpoints) / sum(s for _, s in endpoints)
        out.append(Fitted("customers.endpoints_per_seat", round(ratio, 4), ratio,
                          (ratio, ratio), len(endpoints), source,
                          f"fitted from {source}: {sum(e for e, _ in endpoints):,.0f} endpoints "
                          f"on {sum(s for _, s in endpoints):,.0f} seats"))
    mrr = sum(c.fee_at(as_of) for c in active)
    out.append(Fitted("start.customers", len(active), len(active), (len(active),) * 2,
                      len(active), source, f"fitted from {source}: {len(active)} active "
                      f"clients on {as_of.isoformat()}, ${mrr:,.0f}/month managed services"))
    seats = np.array([c.seats for c in clients], dtype=np.float64)
    if seats.size >= 3 and seats.std() > 0:
        sigma, _, scale = stats.lognorm.fit(seats, floc=0)
        table = {"dist": "lognormal", "median": float(scale), "sigma": float(sigma),
                 "low": 1.0, "high": float(max(2 * seats.max(), 10))}
        out.append(_fitted("customers.seats", table, float(seats.mean()), seats.size, source,
                           f"fitted from {source}: lognormal of {seats.size} clients' seats "
                           "(scipy.stats.lognorm.fit)"))
    out += fit_price(clients, source)
    return out


def fit_pnl(months: Sequence[PnlMonth], techs: float | None, customers: float | None,
            per_employee: float, per_customer: float, source: str,
            managed_products: float = 0.0, managed_projects: float = 0.0,
            project_size: float = 0.0) -> list[Fitted]:
    """Legacy revenue lines (last 3 months, less what the model makes the managed book buy:
    ``managed_products`` and ``managed_projects`` $/month) and the fixed overhead (last 12
    months, less the per-employee and per-customer parts the model adds). With
    ``project_size`` (the mean $ of a project) and clients, the project revenue of the
    last 12 months (projects are lumpy: 3 months say little) is the managed clients'
    projects: ``projects.per_customer_year``, its standard error from the months' spread;
    the legacy project line is then 0."""
    last3, last12 = months[-3:], months[-12:]
    products_all = float(np.mean([m.revenue_products for m in last3]))
    projects_all = float(np.mean([m.revenue_projects for m in last3]))
    products = max(0.0, products_all - managed_products)
    projects = max(0.0, projects_all - managed_projects)
    out = []
    if project_size > 0 and customers and len(last12) >= 2:
        monthly = np.array([m.revenue_projects for m in last12], dtype=np.float64)
        rate = float(monthly.mean()) * 12 / (customers * project_size)
        se = float(monthly.std(ddof=1) / math.sqrt(monthly.size)) * 12 / (customers
                                                                         * project_size)
        value = {"dist": "normal", "mean": rate, "sd": max(se, 1e-6), "low": 0.0}
        out.append(_fitted("projects.per_customer_year", value, rate, len(last12), source,
                           f"fitted from {source}: ${monthly.mean():,.0f}/month of projects "
                           f"over {len(last12)} months from {customers:.0f} clients, at "
                           f"${project_size:,.0f} a project"))
        projects, projects_all, managed_projects = 0.0, float(monthly.mean()), \
            float(monthly.mean())
    overhead = float(np.mean([m.overhead for m in last12]))
    fixed = max(0.0, overhead - per_employee * (techs or 0) - per_customer * (customers or 0))
    span = f"{last3[0].month.isoformat()[:7]} to {last3[-1].month.isoformat()[:7]}"
    return out + [
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
    work: Sequence[WorkEntry] | None = None,
    project_size: float = 0.0,
) -> FitResult:
    """Fit every value the records hold (see the module docstring).

    Raises
    ------
    ValueError
        ``as_of`` is before the records begin.
    """
    sources = sources or {}
    window = records_window(clients, deals, tickets, pnl, work)
    if window is None:
        raise ValueError("no dated records; allowed: at least one row")
    if as_of is None:
        as_of = window[1]
    elif as_of < window[0]:
        raise ValueError(f"`as_of` {as_of.isoformat()} is before the records begin "
                         f"({window[0].isoformat()}); allowed: a date on or after it")
    else:
        clients, deals, tickets, pnl, work = records_until(clients, deals, tickets, pnl, work,
                                                           as_of)
    result = FitResult(as_of=as_of, fitted=[], files=dict(sources))
    result.curves["window_start"] = window[0]
    if clients:
        src = sources.get("clients", "clients")
        churn = fit_churn(clients, as_of, src, window[0])
        if churn:
            result.fitted.append(churn)
            if churn.count < 5:
                result.warnings.append(f"churn: only {churn.count:.0f} cancellations in "
                                       f"{src}: the churn distribution is wide")
        result.fitted += fit_book(clients, as_of, src)
        result.curves["tenures"] = client_tenures(clients, as_of, window[0])
    if deals:
        src = sources.get("pipeline", "pipeline")
        result.fitted += fit_pipeline(deals, as_of, selling_hours, src)
        proposals = sum(d.outcome in ("won", "lost") and d.proposal for d in deals)
        if proposals < 10:
            result.warnings.append(f"close rate: only {proposals} decided proposals in {src}")
    if tickets:
        src = sources.get("tickets", "tickets")
        result.fitted += fit_tickets(tickets, clients, owner, endpoints_per_seat, src, as_of,
                                     work)
        if owner is None:
            result.warnings.append("escalation share: not fitted (give --owner NAME, the "
                                   "owner's resource in the tickets)")
        result.curves["tickets_by_month"] = tickets_by_month(tickets, clients or (),
                                                              endpoints_per_seat)
        drift = ticket_drift(tickets, clients or (), endpoints_per_seat)
        if drift:
            result.warnings.append(drift)
    if pnl:
        src = sources.get("pnl", "pnl")
        customers = result.get("start.customers")
        techs = result.get("start.techs")
        active = active_clients(clients or (), as_of)
        seats = sum(c.seats_at(as_of) for c in active)
        result.fitted += fit_pnl(pnl, None if techs is None else techs.value,
                                 None if customers is None else customers.value,
                                 per_employee_overhead, per_customer_overhead, src,
                                 managed_products=product_spend_per_seat_year * seats / 12,
                                 managed_projects=project_revenue_per_customer_year
                                 * len(active) / 12, project_size=project_size)
    return result


