"""The fit's estimators where they can be wrong (simulator/fit/estimate.py).

tests/test_fit_recovery.py checks the 90% intervals' coverage on synthetic
histories in which the estimators' easy mistakes cost nothing (tickets and
hours give the same escalation share there, few proposals are undecided).
Here each estimator meets data that tell the right formula from the likely
wrong one: hand cases with the answer written from the estimator's textbook
definition, and replications that check bias and the standard error (not
coverage alone). Tolerances: a replication mean within 4 standard errors.
"""

from __future__ import annotations

import datetime
import math

import numpy as np
import pytest
from scipy import optimize, stats

from simulator.fit.estimate import (
    fit_churn,
    fit_pipeline,
    fit_records,
    fit_tickets,
)
from simulator.fit.history import endpoint_months
from simulator.fit.records import Client, Deal, Ticket
from simulator.fit.synthetic import history

DAY = datetime.date(2024, 1, 15)


def _deals(won: int, lost: int, open_: int, no_proposal: int) -> list[Deal]:
    kinds = ([(True, "won")] * won + [(True, "lost")] * lost + [(True, "open")] * open_
             + [(False, "lost")] * no_proposal)
    return [Deal(DAY, f"P{k}", proposal, outcome, None, k + 2)
            for k, (proposal, outcome) in enumerate(kinds)]


def _beta_mean(successes: int, trials: int) -> float:
    """Jeffreys posterior mean, Beta(successes + 1/2, failures + 1/2)."""
    return (successes + 0.5) / (trials + 1.0)


def test_close_rate_counts_decided_proposals_only():
    """10 won, 10 lost, 20 proposals still open, 5 meetings without a proposal: the
    close rate is 10 of 20 decided proposals (not 10 of 40); the proposal rate 40 of 45."""
    fitted = {f.key: f for f in fit_pipeline(_deals(10, 10, 20, 5), DAY, 40.0, "p")}
    assert fitted["sales.close_rate"].estimate == _beta_mean(10, 20)
    assert fitted["sales.close_rate"].count == 20
    assert fitted["sales.proposal_rate"].estimate == _beta_mean(40, 45)
    # meetings per selling hour: Gamma(45 + 1/2, months) over 40 hours, one month here,
    # written as the lognormal of the same mean and sd
    meetings = fitted["sales.meetings_per_selling_hour"]
    assert meetings.estimate == 45.5 / 1.0 / 40.0
    table = meetings.value
    assert table["dist"] == "lognormal"
    written = stats.lognorm(s=table["sigma"], scale=table["median"])
    np.testing.assert_allclose([written.mean(), written.std()],
                               [45.5 / 40.0, math.sqrt(45.5) / 40.0], rtol=1e-12)
    # the close rate's beta has the Jeffreys posterior's mean and sd
    beta = fitted["sales.close_rate"].value
    posterior = stats.beta(10.5, 10.5)
    assert beta["dist"] == "beta"
    np.testing.assert_allclose([beta["mean"], beta["sd"]], [posterior.mean(), posterior.std()],
                               rtol=1e-12)


def test_a_rate_needs_one_decided_trial():
    """No decided proposal: no close rate; one won: Beta(1.5, 0.5)."""
    assert "sales.close_rate" not in {f.key for f in fit_pipeline(_deals(0, 0, 3, 0), DAY,
                                                                     40.0, "p")}
    one = {f.key: f for f in fit_pipeline(_deals(1, 0, 0, 0), DAY, 40.0, "p")}
    assert one["sales.close_rate"].count == 1
    assert one["sales.close_rate"].estimate == 1.5 / 2.0


def test_close_rate_is_unbiased_when_the_history_ends_mid_cycle():
    """Six months of 30 meetings a month, proposals closing 7-60 days later: about 1
    in 6 is still open at the as-of date. The fitted close rate's mean over 200
    histories is the truth (the open ones are not losses), within 4 SE."""
    rng = np.random.default_rng(11)
    errors, opened = [], []
    for _ in range(200):
        h = history(rng, months=6, start_clients=0, meetings_per_month=30.0,
                    proposal_rate=0.6, close_rate=0.35, tickets_per_endpoint=0.0)
        fitted = {f.key: f for f in fit_pipeline(h.deals, h.as_of, 40.0, "p")}
        errors.append(fitted["sales.close_rate"].estimate - 0.35)
        opened.append(np.mean([d.outcome == "open" for d in h.deals if d.proposal]))
    errors = np.array(errors)
    assert np.mean(opened) > 0.1  # the case is not empty
    se = errors.std(ddof=1) / math.sqrt(errors.size)
    assert abs(errors.mean()) < 4 * se + 0.002, (errors.mean(), se)  # + the prior's pull


def _tickets(hours, owner_flags, owner="Owner") -> list[Ticket]:
    return [Ticket(DAY, DAY, "A", float(h), owner if mine else "Tech", k + 2)
            for k, (h, mine) in enumerate(zip(hours, owner_flags, strict=True))]


def _ratio_se(y: np.ndarray, x: np.ndarray) -> float:
    """Cochran's ratio estimator R = sum y / sum x: se = sqrt(sum (y - R x)^2 / (n (n - 1)))
    / mean x (Sampling Techniques, 3rd ed., eq. 6.9 without the finite-population term)."""
    r = y.sum() / x.sum()
    n = x.size
    return math.sqrt(((y - r * x) ** 2).sum() / (n * (n - 1))) / x.mean()


def test_escalation_share_is_of_hours_not_tickets():
    """The owner works 2 of 10 tickets, the long ones: 9 of 17 hours (not 20%)."""
    hours = np.array([4.5, 4.5, 1, 1, 1, 1, 1, 1, 1, 1])
    mine = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    fitted = {f.key: f for f in fit_tickets(_tickets(hours, mine), None, "Owner", 1.2, "t")}
    share = fitted["staff.escalation_share"]
    assert share.estimate == 9 / 17
    assert share.value["mean"] == 9 / 17
    y = np.where(mine, hours, 0.0)
    np.testing.assert_allclose(share.value["sd"], _ratio_se(y, hours), rtol=1e-12)
    # hours per ticket: the sample mean, normal with its standard error
    h = fitted["tickets.hours_reactive"]
    assert h.estimate == 1.7
    np.testing.assert_allclose(h.value["sd"], hours.std(ddof=1) / math.sqrt(10), rtol=1e-12)
    assert h.value["dist"] == "normal" and h.value["mean"] == 1.7


def test_escalation_share_standard_error_by_replication():
    """The owner takes the longer tickets (probability rising with hours; hours
    lognormal with mean 2.5, straddling it): over 300 histories of 400 tickets the
    fitted share is unbiased for the share of hours and its standard error is the
    replications' spread (z-scores with mean 0 and sd 1, within 4 SE)."""
    rng = np.random.default_rng(5)

    def draw(n):
        hours = np.exp(np.log(2.5) - 0.5 + rng.standard_normal(n))  # mean 2.5
        mine = rng.random(n) < np.minimum(0.08 * hours, 1.0)
        return hours, mine

    big_h, big_m = draw(2_000_000)
    truth = (big_h * big_m).sum() / big_h.sum()  # the share of hours, to ~1e-4
    assert abs(truth - big_m.mean()) > 0.05  # tickets and hours disagree here
    z, est = [], []
    for _ in range(300):
        hours, mine = draw(400)
        hours = np.round(hours, 3) + 0.001
        f = {f.key: f for f in fit_tickets(_tickets(hours, mine), None, "Owner", 1.2, "t")}
        share = f["staff.escalation_share"]
        est.append(share.estimate)
        z.append((share.estimate - truth) / share.value["sd"])
    z, est = np.array(z), np.array(est)
    assert abs(z.mean()) < 4 / math.sqrt(z.size) + 0.05  # ratio-estimator bias is O(1/n)
    assert abs(z.std(ddof=1) - 1) < 4 / math.sqrt(2 * z.size) + 0.05, z.std(ddof=1)
    assert abs(est.mean() - truth) < 4 * est.std(ddof=1) / math.sqrt(est.size) + 0.002


def test_churn_from_tenures_with_a_book_in_place_at_the_start():
    """Clients who joined before the records begin count their whole tenure: 1 ended
    after 1 year, 2 active for 2 years each = 5 client-years, 1 event. With the hazard
    ~ Gamma(1.5, 5), the annual rate 1 - exp(-hazard) has mean 1 - (5/6)^1.5 and
    E[(1 - exp(-hazard))^2] = 1 - 2 (5/6)^1.5 + (5/7)^1.5 (the gamma's Laplace transform)."""
    as_of = datetime.date(2024, 1, 1)
    start = as_of - datetime.timedelta(days=round(2 * 365.25))
    clients = [
        Client("A", start, start + datetime.timedelta(days=round(365.25)), 5, None, 500, 2),
        Client("B", start, None, 5, None, 500, 3),
        Client("C", start, None, 5, None, 500, 4),
    ]
    fitted = fit_churn(clients, as_of, "c")
    exposure = (round(365.25) + 2 * round(2 * 365.25)) / 365.25
    m1 = (exposure / (exposure + 1)) ** 1.5
    m2 = 1 - 2 * m1 + (exposure / (exposure + 2)) ** 1.5
    assert fitted.count == 1 and fitted.key == "churn.annual_rate" and fitted.source == "c"
    # the comment's MLE: the censored exponential's rate is events / exposure
    assert f"MLE {100 * (1 - math.exp(-1 / exposure)):.1f}%/year" in fitted.comment
    np.testing.assert_allclose(fitted.estimate, 1 - m1, rtol=1e-12)
    np.testing.assert_allclose(fitted.value["sd"], math.sqrt(m2 - (1 - m1) ** 2), rtol=1e-9)
    # and the book today is the two active clients, months into their contracts counted
    result = fit_records(clients, as_of=as_of)
    book = result.get("start.book").value
    assert [c["client"] for c in book] == ["B", "C"]
    assert all(c["contract_month"] == 24 for c in book)


def test_churn_boundaries():
    """A client whose end date is the as-of date has left (an event); a book with no
    client-time yet has nothing to fit."""
    as_of = datetime.date(2024, 1, 1)
    start = datetime.date(2023, 1, 1)
    gone = fit_churn([Client("A", start, as_of, 5, None, 500, 2),
                      Client("B", start, None, 5, None, 500, 3)], as_of, "c")
    assert gone.count == 1
    assert fit_churn([Client("A", as_of, None, 5, None, 500, 2)], as_of, "c") is None


def _export(folder, name: str, header: str, rows: list[str]):
    """A small hand-made export: a CSV file of ``rows`` under ``header``."""
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_rates_per_month_and_per_endpoint_by_hand(tmp_path):
    """Hand-made exports read as a user's files are.

    Meetings: 45 on 15 January, the as-of date 15 March, the history starting on
    1 January: Gamma(45.5, months) with months = 74 days / (365.25 / 12), written as
    the lognormal of that mean and sd.

    Tickets: clients A and B (10 endpoints each) active all of January and February
    2024 (31 and 29 days), 10 tickets each in January and 20 each in February. The two
    clients are alike (no spread across clients: the negative binomial's shape runs to
    its Poisson limit), so the rate is the mean of the months' rates (each month of the
    year counted once, not weighted by its tickets): (r_jan + r_feb) / 2 with
    r = tickets / (20 x days / (365.25 / 12)); its log-scale sd is the Poisson's
    1 / sqrt(60), widened by Student's t on 2 - 1 degrees of freedom over the normal and
    by sqrt(2 / 1)."""
    from simulator.fit import read_records

    pipe = _export(tmp_path, "pipe.csv", "date,prospect,proposal,outcome,close_date",
                   [f"2024-01-15,P{k},no,lost,2024-02-01" for k in range(45)])
    deals = read_records(pipeline=pipe)["deals"]
    got = {f.key: f for f in fit_pipeline(deals, datetime.date(2024, 3, 15), 40.0, "pipe.csv")}
    months = 74 / (365.25 / 12)
    meetings = got["sales.meetings_per_selling_hour"]
    written = stats.lognorm(s=meetings.value["sigma"], scale=meetings.value["median"])
    np.testing.assert_allclose([meetings.estimate, written.mean(), written.std()],
                               [45.5 / months / 40, 45.5 / months / 40,
                                math.sqrt(45.5) / months / 40], rtol=1e-12)
    assert meetings.source == "pipe.csv" and "45 first meetings in 2 months" in meetings.comment
    assert got["sales.proposal_rate"].comment.endswith("0 of 45 first meetings led to a proposal")
    assert got["sales.proposal_rate"].estimate == _beta_mean(0, 45)
    assert "sales.close_rate" not in got  # no proposal: nothing decided

    clients = _export(tmp_path, "clients.csv", "client,start_date,end_date,seats,endpoints,"
                      "monthly_fee", ["A,2023-06-01,,8,10,800", "B,2023-06-01,,8,10,800"])
    rows = [f"2024-{m:02d}-{d:02d},{c},1.5,Tech" for c in "AB"
            for m, n in ((1, 10), (2, 20)) for d in range(1, n + 1)]
    tickets = _export(tmp_path, "tickets.csv", "created,client,hours,resource", rows)
    records = read_records(clients=clients, tickets=tickets)
    got = {f.key: f for f in fit_tickets(records["tickets"], records["clients"], None, 1.2,
                                         "tickets.csv", as_of=datetime.date(2024, 2, 29))}
    per_month = 365.25 / 12
    r_jan, r_feb = 10 / (10 * 31 / per_month), 20 / (10 * 29 / per_month)
    rate = got["tickets.per_endpoint_reactive"]
    np.testing.assert_allclose(rate.estimate, (r_jan + r_feb) / 2, rtol=1e-5)
    assert rate.value["dist"] == "lognormal"
    np.testing.assert_allclose(rate.value["median"], (r_jan + r_feb) / 2, rtol=1e-5)
    widen = stats.t.ppf(0.95, 1) / stats.norm.ppf(0.95) * math.sqrt(2)
    np.testing.assert_allclose(rate.value["sigma"], widen / math.sqrt(60), rtol=1e-3)
    assert rate.count == 60 and rate.source == "tickets.csv"
    assert f"60 tickets in {20 * 60 / per_month:,.0f} endpoint-months of 2 clients" \
        in rate.comment
    assert "their own rates differ by sd 0.00" in rate.comment
    # months of the year from r_jan / mean to r_feb / mean, noted (the model has no seasons)
    mean = (r_jan + r_feb) / 2
    assert f"from {r_jan / mean:.2f}x to {r_feb / mean:.2f}x" in rate.comment
    # no client-time: no rate
    late = Client("B", datetime.date(2024, 3, 1), None, 8, 10, 800, 2)
    assert "tickets.per_endpoint_reactive" not in {
        f.key for f in fit_tickets(records["tickets"], [late], None, 1.2, "t.csv")}


def test_ticket_rate_across_clients_that_differ_is_the_negative_binomial_mle():
    """Three clients of 10 endpoints each, all of January: 2, 12 and 40 tickets. With
    equal exposures the negative binomial's maximum-likelihood mean is the sample mean
    whatever its shape (the score in the mean is sum (n - m) k / (m (k + m))), so the
    rate is 54 / 3 tickets over 10 x 31 / (365.25 / 12) endpoint-months; the shape is
    the one that maximises :func:`scipy.stats.nbinom.logpmf` at that mean (found here by
    :func:`scipy.optimize.minimize_scalar`), which the comment gives as the clients'
    sd of rates, rate / sqrt(shape). A Poisson fit's interval (sd of the log rate
    1 / sqrt(54)) would be far too narrow for such clients."""
    counts = (2, 12, 40)
    clients = [Client(name, datetime.date(2023, 1, 1), None, 8, 10, 800, k + 2)
               for k, name in enumerate("ABC")]
    tickets = [Ticket(datetime.date(2024, 1, 1 + d % 31), None, name, 1.0, "Tech", 2 + d)
               for name, n in zip("ABC", counts, strict=True) for d in range(n)]
    got = {f.key: f for f in fit_tickets(tickets, clients, None, 1.2, "t",
                                         as_of=datetime.date(2024, 1, 31))}
    rate = got["tickets.per_endpoint_reactive"]
    exposure = 10 * 31 / (365.25 / 12)
    m = sum(counts) / 3
    np.testing.assert_allclose(rate.estimate, m / exposure, rtol=1e-5)
    n = np.array(counts)
    best = optimize.minimize_scalar(
        lambda log_k: -stats.nbinom.logpmf(n, math.exp(log_k),
                                           math.exp(log_k) / (math.exp(log_k) + m)).sum(),
        bounds=(-6, 12), method="bounded", options={"xatol": 1e-9})
    shape = math.exp(best.x)
    assert f"their own rates differ by sd {m / exposure / math.sqrt(shape):.2f}" in rate.comment
    assert rate.value["sigma"] > 3 / math.sqrt(sum(counts))  # wider than Poisson's


def test_tickets_fit_details_by_hand(tmp_path):
    """Technicians: the resources besides the owner who worked a ticket or a time entry
    (a row with no ticket number) in each calendar month, and today's count the median
    of the last three whole months (a month the records end inside is not whole). Hours
    per ticket: a normal of the sample mean and its standard error, bounded below at 0.
    The owner's share of hours needs a share strictly between 0 and 1."""
    from simulator.fit import read_records
    from simulator.fit.estimate import technicians_by_month

    rows = ["1,2024-03-04,A,1.0,T1", "2,2024-04-02,A,1.0,T1", "3,2024-04-20,A,2.0,Owner",
            "4,2024-05-06,A,3.0,T2", "5,2024-05-07,A,0.5,Owner", "6,2024-06-10,A,1.0,T1",
            ",2024-06-11,A,4.0,T3",  # a time entry: T3 is on staff in June
            "7,2024-07-01,A,1.0,T1", "8,2024-07-02,A,1.0,T2", "9,2024-07-03,A,1.0,T3",
            "10,2024-07-15,A,1.0,T4"]
    path = _export(tmp_path, "t.csv", "ticket,created,client,hours,resource", rows)
    records = read_records(tickets=path, owner="Owner")
    tickets, work = records["tickets"], records["work"]
    assert len(tickets) == 10 and len(work) == 1
    staff = technicians_by_month(tickets, work, "Owner")
    assert [m.month for m in staff["months"]] == [3, 4, 5, 6, 7]
    assert staff["techs"] == [1, 1, 1, 2, 4]
    # July ends inside the records: the last three whole months are April to June
    assert staff["now"] == 1
    got = {f.key: f for f in fit_tickets(tickets, None, "Owner", 1.2, "t", work=work)}
    techs = got["start.techs"]
    assert (techs.value, techs.estimate, techs.interval90, techs.count) == (1, 1, (1, 1), 1)
    assert techs.source == "t" and "the median of the last three whole months" in techs.comment
    # the records running to 31 July make July whole: median of May, June, July = 2
    full = [*tickets, Ticket(datetime.date(2024, 7, 31), None, "A", 1.0, "T1", 99)]
    assert technicians_by_month(full, work, "Owner")["now"] == 2
    hours = np.array([t.hours for t in tickets])
    h = got["tickets.hours_reactive"].value
    assert h == {"dist": "normal", "mean": hours.mean(), "sd": h["sd"], "low": 0.0}
    np.testing.assert_allclose(h["sd"], hours.std(ddof=1) / math.sqrt(10), rtol=1e-12)
    assert got["staff.escalation_share"].estimate == 2.5 / 12.5
    # the owner worked none or all of the hours: nothing to fit
    for owner in ("Nobody", None):
        assert "staff.escalation_share" not in {f.key for f in fit_tickets(
            tickets, None, owner, 1.2, "t")}
    solo = [Ticket(t.created, None, "A", t.hours, "Owner", t.row) for t in tickets]
    assert "staff.escalation_share" not in {f.key for f in fit_tickets(solo, None, "Owner",
                                                                       1.2, "t")}
    # endpoint-months: a client without an endpoint count has seats x endpoints_per_seat;
    # clients add up; a client that ends where it starts adds nothing
    first, end = datetime.date(2024, 1, 1), datetime.date(2024, 1, 31)
    clients = [Client("A", first, None, 10, None, 1000, 2),
               Client("B", first, None, 5, 7, 500, 3),
               Client("C", end, end, 5, 7, 500, 4)]
    np.testing.assert_allclose(endpoint_months(clients, first, end, 1.2),
                               (12 + 7) * 30 / (365.25 / 12), rtol=1e-12)


def test_a_client_ending_on_the_as_of_date_counts_once():
    as_of = datetime.date(2024, 1, 1)
    start = datetime.date(2023, 1, 1)
    result = fit_records([Client("A", start, as_of, 5, None, 500, 2)], as_of=as_of)
    assert len(result.curves["tenures"]["ended"]) == 1
    assert result.curves["tenures"]["active"] == []


def test_sales_cycle_is_the_mean_months_to_a_won_signing():
    """Won deals signed 61, 92 and 122 days after the first meeting: the cycle is their
    mean in months of 365.25 / 12 days (lost and open deals do not count); fewer than
    three won deals with a close date: no cycle."""
    first = datetime.date(2024, 1, 1)
    deals = [Deal(first, f"W{k}", True, "won", first + datetime.timedelta(days=d), k + 2)
             for k, d in enumerate((61, 92, 122))]
    deals += [Deal(first, "L", True, "lost", first + datetime.timedelta(days=400), 9),
              Deal(first, "O", True, "open", None, 10)]
    got = {f.key: f for f in fit_pipeline(deals, datetime.date(2024, 6, 1), 40.0, "p")}
    cycle = got["sales.cycle_months"]
    mean = (61 + 92 + 122) / 3 / (365.25 / 12)
    assert (cycle.value, cycle.estimate, cycle.interval90, cycle.count, cycle.source) == (
        round(mean, 2), mean, (mean, mean), 3, "p")
    assert cycle.comment == ("fitted from p: mean months from the first meeting to the "
                             "signing of 3 won deals")
    assert got["sales.close_rate"].comment == "fitted from p: 3 of 4 decided proposals were won"
    assert got["sales.close_rate"].source == got["sales.proposal_rate"].source == "p"
    assert "sales.cycle_months" not in {f.key for f in fit_pipeline(deals[1:], deals[0].date,
                                                                    40.0, "p")}


def test_client_months_by_hand():
    """Tickets and endpoint-months by client and calendar month: A (10 endpoints) all of
    January and February 2023 (a common year: February has 28 days); B (5 seats, no
    endpoint count: 5 x 1.2 endpoints) from 10 January to 15 February, with no ticket
    in February (a zero, not a gap); C signed after the window (nothing). The window
    ends on 20 February."""
    from simulator.fit.estimate import client_month_counts

    day = datetime.date
    clients = [Client("A", day(2023, 1, 1), None, 8, 10, 800, 2),
               Client("B", day(2023, 1, 10), day(2023, 2, 15), 5, None, 500, 3),
               Client("C", day(2023, 3, 1), None, 5, 7, 500, 4)]
    tickets = [Ticket(day(2023, 1, 3), None, "A", 1.0, "T", 2),
               Ticket(day(2023, 1, 30), None, "A", 1.0, "T", 3),
               Ticket(day(2023, 2, 2), None, "A", 1.0, "T", 4),
               Ticket(day(2023, 1, 12), None, "B", 1.0, "T", 5)]
    n, e, moy, who = client_month_counts(tickets, clients, day(2023, 1, 1), day(2023, 2, 20),
                                         1.2)
    per_month = 365.25 / 12
    np.testing.assert_array_equal(n, [2, 1, 1, 0])
    np.testing.assert_allclose(e, np.array([10 * 31, 10 * 19, 6 * 22, 6 * 14]) / per_month,
                               rtol=1e-12)
    np.testing.assert_array_equal(moy, [0, 1, 0, 1])
    np.testing.assert_array_equal(who, [0, 0, 1, 1])
    assert n.dtype == e.dtype == np.float64 and moy.dtype == who.dtype == np.int64


def _negative_binomial_by_hand(y: np.ndarray, e: np.ndarray
                               ) -> tuple[float, float, float, np.ndarray]:
    """The maximum of :func:`scipy.stats.nbinom.logpmf` over (log rate, log shape), the
    observed information there, written out from the log-likelihood's second derivatives
    (l = lgamma(y + k) - lgamma(k) + k log k + y log mu - (y + k) log(k + mu),
    mu = rate x exposure), and the rate's 90% half-width on the log scale from its
    inverse: ``(rate, k, half, information)``."""
    from scipy import special

    def nll(th):
        k, mu = math.exp(th[1]), math.exp(th[0]) * e
        return -stats.nbinom.logpmf(y, k, k / (k + mu)).sum()

    best = optimize.minimize(nll, [math.log(y.sum() / e.sum()), 0.0], method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000})
    rate, k = math.exp(best.x[0]), math.exp(best.x[1])
    mu = rate * e
    d_eta2 = np.sum(-k * mu * (k + y) / (k + mu) ** 2)              # d2l / d(log rate)^2
    d_eta_kappa = np.sum(k * (y - mu) * mu / (k + mu) ** 2)          # d2l / dlog rate dlog k
    d_k2 = np.sum(special.polygamma(1, y + k) - special.polygamma(1, k) + 1 / k
                  - 1 / (k + mu) - (mu - y) / (k + mu) ** 2)
    d_k = np.sum(special.digamma(y + k) - special.digamma(k) + math.log(k) + 1
                 - np.log(k + mu) - (y + k) / (k + mu))
    info = -np.array([[d_eta2, d_eta_kappa], [d_eta_kappa, k * k * d_k2 + k * d_k]])
    half = stats.norm.ppf(0.95) * math.sqrt(np.linalg.inv(info)[0, 0])
    return rate, k, half, info


def test_negative_binomial_interval_is_the_observed_information_by_hand():
    """Unequal exposures (so the rate and the shape are not orthogonal): the maximum of
    :func:`scipy.stats.nbinom.logpmf` over (log rate, log shape), and the 90% interval of
    the log rate from the inverse of the observed information (written out in
    ``_negative_binomial_by_hand``); also for a history of 4 tickets, whose information
    has a determinant under 1 (the rate's and the shape's information are small, not
    absent)."""
    from simulator.fit.estimate import negative_binomial_rate

    spread = (np.array([3.0, 25.0, 7.0, 60.0, 0.0, 14.0]),
              np.array([10.0, 40.0, 12.0, 55.0, 8.0, 30.0]))
    few = (np.array([0.0, 1.0, 0.0, 3.0]), np.array([4.0, 0.5, 2.0, 1.0]))
    for k_rel, (y, e) in ((1e-3, spread), (1e-2, few)):
        rate, k, half, info = _negative_binomial_by_hand(y, e)
        got_rate, (low, high), got_k = negative_binomial_rate(y, e)
        assert got_rate == pytest.approx(rate, rel=1e-5)
        assert got_k == pytest.approx(k, rel=k_rel)
        assert abs(info[0, 1]) > 0.05 * math.sqrt(info[0, 0] * info[1, 1])  # not orthogonal
        assert (low, high) == pytest.approx((rate * math.exp(-half), rate * math.exp(half)),
                                            rel=1e-4)
    assert 0 < np.linalg.det(info) < 1
    # counts with no extra spread: a Poisson rate (shape inf), its interval from the
    # Poisson information (the count) alone
    even = np.array([6.0, 6.0, 6.0, 6.0])
    got_rate, (low, high), got_k = negative_binomial_rate(even, np.full(4, 2.0))
    assert got_rate == pytest.approx(3.0, rel=1e-5) and got_k == math.inf
    half = stats.norm.ppf(0.95) / math.sqrt(24.0)
    assert (low, high) == pytest.approx((3 * math.exp(-half), 3 * math.exp(half)), rel=1e-4)


def _season_factors(n, e, moy, who, clients: int) -> np.ndarray:
    """The month-of-year factors (mean 1) of the Poisson log-linear model with a rate per
    client and per month of the year (January's effect 0), by scipy's BFGS."""
    def nll(th):
        log_mu = th[who] + np.r_[0.0, th[clients:]][moy] + np.log(e)
        return np.sum(np.exp(log_mu) - n * log_mu)

    fit = optimize.minimize(nll, np.zeros(clients + 11), method="BFGS",
                            options={"gtol": 1e-10})
    factor = np.exp(np.r_[0.0, fit.x[clients:]])
    return factor / factor.mean()


def test_seasons_and_clients_are_the_poisson_log_linear_fit_and_t_widens_the_interval():
    """Clients of unlike rates, one signed in July, with winter months busier: the
    month-of-year factors are those of the Poisson log-linear model with client and
    month-of-year effects (maximised here by scipy.optimize; normalised to a mean of 1
    over the months seen); the rate is the negative binomial's on the season-adjusted
    exposures; its 90% interval is widened by Student's t with g - 1 degrees of freedom
    and the clustered variance's g / (g - 1) (CR1; g = 4 clients)."""
    from simulator.fit.estimate import fit_ticket_rate, negative_binomial_rate
    from simulator.fit.history import client_month_counts

    rng = np.random.default_rng(12)
    first, end = datetime.date(2022, 1, 1), datetime.date(2023, 7, 1)
    clients = [Client("A", first, None, 8, 10, 800, 2),
               Client("B", datetime.date(2022, 7, 1), None, 16, 20, 1600, 3),
               Client("C", first, None, 4, 5, 400, 4),
               Client("D", first, datetime.date(2023, 3, 1), 8, 12, 900, 5)]
    level, season = {"A": 0.9, "B": 2.0, "C": 0.5, "D": 1.2}, 1 + 0.5 * np.cos(
        2 * np.pi * np.arange(12) / 12)
    tickets = []
    for c in clients:
        m = max(c.start, first)
        while m < (c.end or end):
            lam = level[c.name] * c.endpoints * season[m.month - 1]
            tickets += [Ticket(m.replace(day=1 + d % 28), None, c.name, 1.0, "T", 9)
                        for d in range(rng.poisson(lam))]
            m = (m + datetime.timedelta(days=32)).replace(day=1)
    got = fit_ticket_rate(tickets, clients, first, end, 1.2, "t.csv")
    n, e, moy, who = client_month_counts(tickets, clients, first, end, 1.2)

    factor = _season_factors(n, e, moy, who, clients=4)
    assert f"months of the year from {factor.min():.2f}x to {factor.max():.2f}x" in got.comment
    x = np.bincount(who, weights=factor[moy] * e)
    rate, (low, high), _ = negative_binomial_rate(np.bincount(who, weights=n), x)
    assert got.estimate == pytest.approx(rate, rel=1e-4)
    z = stats.norm.ppf(0.95)
    sigma = stats.t.ppf(0.95, 3) / z * math.sqrt(4 / 3) * math.log(high / low) / (2 * z)
    assert got.value["sigma"] == pytest.approx(sigma, rel=1e-4)
    assert (f"90% interval {rate * math.exp(-z * sigma):.3f} to "
            f"{rate * math.exp(z * sigma):.3f}") in got.comment
    assert "of 4 clients" in got.comment


def test_half_a_year_of_flat_or_seasonal_tickets():
    """Six months (January-June) of records, two clients alike (one counted in seats x
    endpoints_per_seat): each month's tickets per endpoint-month r_m are the same for
    both, so the month factors are r_m over their mean over the six months seen (the
    months not seen left alone) and the rate is that mean; months that differ by
    less than 0.3x (the same count in months of 28-31 days) get no note of seasons."""
    from simulator.fit.estimate import fit_ticket_rate
    from simulator.fit.history import client_month_counts

    first, end = datetime.date(2023, 1, 1), datetime.date(2023, 7, 1)
    clients = [Client("A", first, None, 8, 10, 800, 2),
               Client("B", first, None, 10, None, 900, 3)]

    def tickets_of(per_month):
        out = []
        for c, endpoints in zip(clients, (10, 12), strict=True):
            for month in range(1, 7):
                out += [Ticket(datetime.date(2023, month, 1 + d % 28), None, c.name, 1.0,
                               "T", 9) for d in range(round(per_month[month - 1] * endpoints))]
        return out

    for busy in ([0.5] * 6, [1.0, 1.0, 0.5, 0.5, 0.5, 0.5]):
        tickets = tickets_of(busy)
        got = fit_ticket_rate(tickets, clients, first, end, 1.2, "t.csv")
        n, e, moy, _ = client_month_counts(tickets, clients, first, end, 1.2)
        r = np.bincount(moy, weights=n)[:6] / np.bincount(moy, weights=e)[:6]
        assert got.estimate == pytest.approx(r.mean(), rel=1e-4)
        factor = r / r.mean()
        note = f"months of the year from {factor.min():.2f}x to {factor.max():.2f}x"
        assert (note in got.comment) == (busy[0] == 1.0), got.comment
        assert busy[0] == 1.0 or got.comment[-1].isdigit()  # the interval ends it
        assert f"{e.sum():,.0f} endpoint-months of 2 clients" in got.comment


def test_histories_under_one_client_year_or_one_ticket_hour_are_fitted():
    """Issue 30: the fits need exposure and hours above 0, not above 1. One client
    watched for 0.5 years (none left): hazard ~ Gamma(1/2, 0.5), the annual rate's mean
    1 - (0.5 / 1.5)^0.5; one client who left after 0.25 years: Gamma(1.5, 0.25). Two
    tickets of 0.25 and 0.5 hours, the owner on the first: a share of 1/3 of 0.75 hours,
    Cochran's ratio standard error."""
    as_of = datetime.date(2024, 1, 1)
    half = as_of - datetime.timedelta(days=round(0.5 * 365.25))
    fitted = fit_churn([Client("A", half, None, 5, None, 500, 2)], as_of, "c")
    b = round(0.5 * 365.25) / 365.25
    assert fitted is not None and fitted.count == 0
    np.testing.assert_allclose(fitted.estimate, 1 - (b / (b + 1)) ** 0.5, rtol=1e-12)
    assert fitted.comment == "fitted from c: 0 cancellations in 1 client-years"  # 0.501
    quarter = as_of - datetime.timedelta(days=91)
    left = fit_churn([Client("A", quarter, as_of, 5, None, 500, 2)], as_of, "c")
    b = 91 / 365.25
    assert left is not None and left.count == 1
    np.testing.assert_allclose(left.estimate, 1 - (b / (b + 1)) ** 1.5, rtol=1e-12)
    assert f"MLE {100 * (1 - math.exp(-1 / b)):.1f}%/year" in left.comment

    hours = np.array([0.25, 0.5])
    mine = np.array([True, False])
    got = {f.key: f for f in fit_tickets(_tickets(hours, mine), None, "Owner", 1.2, "t")}
    share = got["staff.escalation_share"]
    assert share.estimate == pytest.approx(1 / 3, rel=1e-12) and share.count == 2
    np.testing.assert_allclose(share.value["sd"],
                               _ratio_se(np.where(mine, hours, 0.0), hours), rtol=1e-12)
    assert "worked 33.3% of 1 ticket hours" in share.comment
    assert got["tickets.hours_reactive"].estimate == pytest.approx(0.375, rel=1e-12)


def _split_by_hand(prices: np.ndarray, min_side: int = 3) -> tuple[int, float]:
    """The least-squares split (first of the smallest residual sums, both sides at least
    ``min_side``), the F statistic of one step against none on n - 2 degrees of freedom,
    Bonferroni over the n - 2 min_side + 1 splits tried."""
    n = prices.size
    sse = {k: ((prices[:k] - prices[:k].mean()) ** 2).sum()
           + ((prices[k:] - prices[k:].mean()) ** 2).sum()
           for k in range(min_side, n - min_side + 1)}
    k = min(sse, key=lambda j: (sse[j], j))
    total = ((prices - prices.mean()) ** 2).sum()
    f = (total - sse[k]) / (sse[k] / (n - 2))
    return k, stats.f.sf(f, 1, n - 2) * (n - 2 * min_side + 1)


def test_price_step_is_the_least_squares_split_and_its_bonferroni_f_test():
    from simulator.fit.estimate import price_change_point

    step = np.array([98.0, 101, 100, 99, 102, 119, 121, 120, 122, 118])
    k, p = _split_by_hand(step)
    assert k == 5 and p < 0.01
    got = price_change_point(step)
    assert got[0] == 5
    np.testing.assert_allclose(got[1], p, rtol=1e-9)
    # 8 prices (2 x 3 + 2) are enough, 7 are not
    eight = np.array([100.0, 101, 99, 100, 130, 131, 129, 130])
    k, p = _split_by_hand(eight)
    assert price_change_point(eight) == (k, pytest.approx(p, rel=1e-9)) and k == 4
    assert price_change_point(eight[1:]) is None
    # a step too small for 1% after Bonferroni: raw p under 1%, times 5 splits over it
    small = np.array([100.0, 103, 97, 101, 99, 104, 107, 102, 106, 105])
    k, p = _split_by_hand(small)
    assert 0.01 < p and p / 5 < 0.01
    assert price_change_point(small) is None
    # an exact step: no residual, p = 0; no change at all: nothing
    assert price_change_point(np.repeat([100.0, 120.0], 4)) == (4, 0.0)
    assert price_change_point(np.full(10, 100.0)) is None


def _stay(name, start, fees, seats=10.0, years=1, row=2):
    """A client re-papered every ``years`` years at each fee of ``fees`` in turn."""
    from simulator.fit.records import Spell

    starts = [start.replace(year=start.year + years * j) for j in range(len(fees))]
    spells = tuple(Spell(s, starts[j + 1] if j + 1 < len(fees) else None, seats, fee, row + j)
                   for j, (s, fee) in enumerate(zip(starts, fees, strict=True)))
    return Client(name, start, None, seats, None, fees[-1], row, spells)


def test_price_since_a_step_in_new_clients_prices_by_hand():
    """Ten clients without agreement rows signing a month apart, the last five at ~$120
    a seat (one of them a single seat): the price is the mean of those five, signed
    since the day after the fifth signing; no escalator without agreement rows."""
    from simulator.fit.estimate import fit_price

    per_seat = [98.0, 101, 100, 99, 102, 119, 121, 120, 122, 118]
    seats = [10] * 7 + [1] + [10] * 2
    days = [datetime.date(2023, m, 1) for m in range(1, 11)]
    clients = [Client(f"C{j}", d, None, n, None, n * p, j + 2)
               for j, (d, p, n) in enumerate(zip(days, per_seat, seats, strict=True))]
    got = fit_price(clients, "s")
    assert [f.key for f in got] == ["customers.price_per_seat"]
    recent = np.array(per_seat[5:])
    price = got[0]
    assert price.estimate == pytest.approx(120.0, rel=1e-12) and price.count == 5
    assert price.value == {"dist": "normal", "mean": pytest.approx(120.0, rel=1e-12),
                           "sd": pytest.approx(recent.std(ddof=1) / math.sqrt(5), rel=1e-12),
                           "low": 1.0}
    _, p = _split_by_hand(np.array(per_seat))
    assert price.comment == (
        "fitted from s: mean fee per seat of the 5 agreements made since 2023-05-02 "
        "(signed or re-papered), after a price change (new clients' price stepped from "
        f"$100.00 (F-test p = {p:.1g})); standard error "
        f"${recent.std(ddof=1) / math.sqrt(5):.2f}")


def test_price_after_a_rise_re_papered_across_the_book_and_the_escalator():
    """Three clients re-papered every year at +5%: six rises; the book's rise dates from
    the median rise (the fourth) less 31 days; today's price is each client's latest
    agreement since then; the escalator 5% (more rises than clients). Re-papered once
    each, the rise is a one-off: escalator 0."""
    from simulator.fit.estimate import fit_price

    bases = [100.0, 110.0, 90.0]
    starts = [datetime.date(2021, 1, 4), datetime.date(2021, 2, 1), datetime.date(2021, 3, 1)]
    clients = [_stay(f"C{j}", s, [10 * b, 10 * b * 1.05, 10 * b * 1.05 ** 2], row=10 * j)
               for j, (s, b) in enumerate(zip(starts, bases, strict=True))]
    got = {f.key: f for f in fit_price(clients, "s")}
    latest = np.array(bases) * 1.05 ** 2
    price = got["customers.price_per_seat"]
    np.testing.assert_allclose(price.estimate, latest.mean(), rtol=1e-12)
    np.testing.assert_allclose(price.value["sd"], latest.std(ddof=1) / math.sqrt(3),
                               rtol=1e-12)
    since = datetime.date(2023, 1, 4) - datetime.timedelta(days=31)
    assert (f"the 3 agreements made since {since.isoformat()} (signed or re-papered), after "
            "a price change (6 agreements re-papered at a higher fee around 2023-01-04)"
            in price.comment)
    esc = got["customers.price_escalator"]
    assert esc.value == pytest.approx(0.05, abs=1e-12) and esc.count == 6
    assert esc.comment == "fitted from s: 6 fee rises on 6 re-papered agreements of 3 clients"
    once = [_stay(f"C{j}", s, [10 * b, 10 * b * 1.05], row=10 * j)
            for j, (s, b) in enumerate(zip(starts, bases, strict=True))]
    esc = {f.key: f for f in fit_price(once, "s")}["customers.price_escalator"]
    assert esc.value == 0.0 and esc.estimate == 0.0 and esc.count == 3
    assert esc.comment == ("fitted from s: 3 fee rises on 3 re-papered agreements of 3 "
                           "clients; at most one per client, read as a one-off price change "
                           "(today's fees are in the book)")


def test_book_endpoints_customers_and_seats_by_hand():
    """Three active clients of four: the book exactly, endpoints per seat over the
    clients with an endpoint count, the seats' lognormal by maximum likelihood with the
    location at 0 (the mean and sd of the logs)."""
    from simulator.fit.estimate import fit_book

    as_of = datetime.date(2024, 1, 1)
    clients = [Client("A", datetime.date(2022, 3, 1), None, 10, 14, 1_000, 2),
               Client("B", datetime.date(2021, 5, 1), None, 25, None, 2_500, 3),
               Client("C", datetime.date(2021, 1, 1), datetime.date(2023, 2, 1), 5, 6, 400, 4),
               Client("D", datetime.date(2023, 6, 15), None, 40, 50, 3_900, 5)]
    got = {f.key: f for f in fit_book(clients, as_of, "b")}
    assert got["start.book"].value == [
        {"client": "A", "seats": 10, "monthly_fee": 1_000, "contract_month": 22},
        {"client": "B", "seats": 25, "monthly_fee": 2_500, "contract_month": 32},
        {"client": "D", "seats": 40, "monthly_fee": 3_900, "contract_month": 6}]
    assert got["start.book"].estimate == 7_400 and got["start.book"].count == 3
    eps = got["customers.endpoints_per_seat"]
    assert eps.value == round(70 / 55, 4) and eps.estimate == 70 / 55 and eps.count == 3
    assert eps.comment == "fitted from b: 70 endpoints on 55 seats"
    n = got["start.customers"]
    assert (n.value, n.count) == (3, 3)
    assert n.comment == ("fitted from b: 3 active clients on 2024-01-01, $7,400/month "
                         "managed services")
    seats = got["customers.seats"]
    logs = np.log([10.0, 25, 5, 40])
    assert seats.value["dist"] == "lognormal" and seats.value["low"] == 1.0
    assert seats.value["high"] == 80.0  # 2 x the largest, at least 10
    np.testing.assert_allclose(seats.value["median"], math.exp(logs.mean()), rtol=1e-6)
    np.testing.assert_allclose(seats.value["sigma"], logs.std(), rtol=1e-6)
    assert seats.estimate == 20.0 and seats.count == 4
    assert seats.comment == ("fitted from b: lognormal of 4 clients' seats "
                             "(scipy.stats.lognorm.fit)")


def _pnl(n: int = 12):
    from simulator.fit.records import PnlMonth

    return [PnlMonth(datetime.date(2023, k + 1, 1), 1_000.0 + 10 * k, 2_000.0 + 300 * (k % 3),
                     9_000.0 + 50 * k, k + 2) for k in range(n)]


def test_pnl_lines_and_fixed_overhead_by_hand():
    """Legacy lines: the last 3 months' mean less what the model's book buys (never below
    0); fixed overhead: the last 12 months' mean less the per-employee and per-customer
    parts; with a project size, projects per client-year from the last 12 months."""
    from simulator.fit.estimate import fit_pnl

    got = {f.key: f for f in fit_pnl(_pnl(), 3, 10, 400.0, 100.0, "q",
                                     managed_products=500.0, managed_projects=700.0)}
    assert list(got) == ["start.legacy_product_revenue", "start.legacy_project_revenue",
                         "finance.overhead_per_month"]
    products, projects = got["start.legacy_product_revenue"], got["start.legacy_project_revenue"]
    assert products.value == pytest.approx(1_100.0 - 500.0, rel=1e-12) and products.count == 3
    assert products.comment == ("fitted from q: $1,100/month (2023-10 to 2023-12) less $500 "
                                "the managed book buys in the model")
    assert projects.value == pytest.approx(2_300.0 - 700.0, rel=1e-12)
    assert projects.comment == ("fitted from q: $2,300/month (2023-10 to 2023-12) less $700 "
                                "of managed clients' projects in the model")
    fixed = got["finance.overhead_per_month"]
    assert fixed.value == pytest.approx(9_275.0 - 3 * 400 - 10 * 100, rel=1e-12)
    assert fixed.count == 12 and fixed.comment == (
        "fitted from q: $9,275/month over 12 months, less the per-employee and per-customer "
        "overhead the model adds")
    bare = {f.key: f.value for f in fit_pnl(_pnl(), None, None, 400.0, 100.0, "q",
                                            managed_products=5_000.0)}
    assert bare["finance.overhead_per_month"] == pytest.approx(9_275.0, rel=1e-12)
    assert bare["start.legacy_product_revenue"] == 0.0
    # projects of $5,000 from 10 clients: 12 x mean / (10 x 5,000) a client-year
    lumpy = {f.key: f for f in fit_pnl(_pnl(), 3, 10, 400.0, 100.0, "q",
                                       project_size=5_000.0)}
    monthly = np.array([2_000.0 + 300 * (k % 3) for k in range(12)])
    rate = lumpy["projects.per_customer_year"]
    assert rate.value == {"dist": "normal", "mean": pytest.approx(2_300 * 12 / 50_000),
                          "sd": pytest.approx(monthly.std(ddof=1) / math.sqrt(12) * 12 / 50_000),
                          "low": 0.0}
    assert rate.count == 12 and rate.comment == ("fitted from q: $2,300/month of projects "
                                                 "over 12 months from 10 clients, at $5,000 a "
                                                 "project")
    assert lumpy["start.legacy_project_revenue"].value == 0.0
    assert "$2,300/month (2023-10 to 2023-12) less $2,300 of managed" in \
        lumpy["start.legacy_project_revenue"].comment


def test_ticket_months_drift_and_tenure_curve_by_hand():
    """Tickets by calendar month over the month's endpoint-months; the drift warning of
    the exact Poisson means test between the history's halves; the tenure curve is
    Kaplan-Meier (ended 1 and 2 years, one censored at 1.5: 2/3 from 1 year, 0 at 2)."""
    from simulator.fit.history import tenure_survival, ticket_drift, tickets_by_month

    start = datetime.date(2023, 1, 1)
    clients = [Client("A", start, None, 10, None, 1_000, 2)]  # 12 endpoints at 1.2 a seat
    tickets = [Ticket(datetime.date(2023, 1, d), None, "A", 1.0, "T", d) for d in (3, 9, 20)]
    tickets.append(Ticket(datetime.date(2023, 3, 5), None, "A", 1.0, "T", 30))
    got = tickets_by_month(tickets, clients, 1.2)
    assert got["months"] == ["2023-01", "2023-03"] and got["tickets"] == [3, 1]
    np.testing.assert_allclose(got["per_endpoint"],
                               [3 / (12 * 31 / (365.25 / 12)), 1 / (12 * 31 / (365.25 / 12))],
                               rtol=1e-12)
    assert tickets_by_month(tickets, [], 1.2)["per_endpoint"] == [None, None]

    # 60 tickets over Jan-Apr 2023: 45 in the first half, 15 in the second
    first = [Ticket(start + datetime.timedelta(days=k % 59), None, "A", 1.0, "T", k)
             for k in range(45)]
    second = [Ticket(datetime.date(2023, 3, 2) + datetime.timedelta(days=k % 59), None, "A",
                     1.0, "T", 100 + k) for k in range(14)]
    second.append(Ticket(datetime.date(2023, 4, 30), None, "A", 1.0, "T", 200))
    many = first + second
    mid = start + (datetime.date(2023, 5, 1) - start) / 2
    k1 = sum(t.created < mid for t in many)
    e1 = 12 * (mid - start).days / (365.25 / 12)
    e2 = 12 * (datetime.date(2023, 5, 1) - mid).days / (365.25 / 12)
    p = stats.poisson_means_test(k1, e1, 60 - k1, e2).pvalue
    assert k1 == 45 and p < 0.01
    assert ticket_drift(many, clients, 1.2) == (
        f"tickets per endpoint drifted: {k1 / e1:.2f} in the first half of the history, "
        f"{(60 - k1) / e2:.2f} in the second (p = {p:.2g}); the fit pools both")
    assert ticket_drift(many[:39], clients, 1.2) is None  # under 40 tickets
    assert ticket_drift(many, [], 1.2) is None
    later = [Client("B", datetime.date(2023, 4, 1), None, 10, None, 1_000, 2)]
    assert ticket_drift(many, later, 1.2) is None  # no endpoint-months in the first half

    years, share = tenure_survival({"ended": [1.0, 2.0], "active": [1.5]})
    np.testing.assert_allclose(years, [1.0, 1.5, 2.0])  # scipy lists the censored time too
    np.testing.assert_allclose(share, [2 / 3, 2 / 3, 0.0], atol=1e-12)
    assert tenure_survival({"ended": [], "active": [1.0]}) is None


def test_fit_records_passes_each_file_its_label_window_and_as_of():
    """fit_records hands each estimator its file's name as the source, the records' first
    date (left truncation), the as-of date, the clients and the fitted technicians and
    customers (each estimator is checked by hand above)."""
    from simulator.fit.estimate import fit_book, fit_pnl
    from simulator.fit.history import records_window

    rng = np.random.default_rng(3)
    h = history(rng, months=18, start_clients=10, meetings_per_month=6.0)
    names = {"clients": "c.csv", "pipeline": "d.csv", "tickets": "t.csv", "pnl": "p.csv"}
    as_of = h.as_of - datetime.timedelta(days=40)
    got = fit_records(h.clients, h.deals, h.tickets, h.pnl, sources=names, owner="Owner",
                      as_of=as_of)
    by_source = {f.key: f.source for f in got.fitted}
    assert by_source["churn.annual_rate"] == "c.csv" and by_source["start.book"] == "c.csv"
    assert by_source["sales.close_rate"] == "d.csv"
    assert by_source["tickets.per_endpoint_reactive"] == "t.csv"
    assert by_source["staff.escalation_share"] == "t.csv"
    assert by_source["finance.overhead_per_month"] == "p.csv"
    plain = fit_records(h.clients, h.deals, h.tickets, h.pnl, owner="Owner", as_of=as_of)
    assert {f.key: f.source for f in plain.fitted}["start.book"] == "clients"
    assert {f.source for f in plain.fitted} == {"clients", "pipeline", "tickets", "pnl"}
    window = records_window(h.clients, h.deals, h.tickets, h.pnl)
    from simulator.fit.history import records_until

    c, d, t, p, _ = records_until(h.clients, h.deals, h.tickets, h.pnl, None, as_of)
    churn = fit_churn(c, as_of, "c.csv", window[0])
    assert got.get("churn.annual_rate") == churn and "left truncation" in churn.comment
    rate = {f.key: f for f in fit_tickets(t, c, "Owner", 1.2, "t.csv", as_of)}
    assert got.get("tickets.per_endpoint_reactive") == rate["tickets.per_endpoint_reactive"]
    techs, customers = got.get("start.techs").value, got.get("start.customers").value
    assert techs > 0 and customers > 0
    seats = sum(x.seats_at(as_of) for x in c if x.start <= as_of and (x.end is None
                                                                     or x.end > as_of))
    pnl = {f.key: f for f in fit_pnl(p, techs, customers, 400.0, 100.0, "p.csv",
                                     managed_products=250.0 * seats / 12)}
    assert got.get("finance.overhead_per_month") == pnl["finance.overhead_per_month"]
    assert got.get("start.legacy_product_revenue") == pnl["start.legacy_product_revenue"]
    assert [f.key for f in fit_book(c, as_of, "c.csv")] == [
        f.key for f in got.fitted if f.source == "c.csv" and f.key != "churn.annual_rate"]


def test_records_as_they_stood_and_tenure_ages_by_hand():
    """records_until: an agreement row starting on the cut-off counts (and sets the fee and
    seats), a deal decided later is open again; client_tenures' ages count a client who
    signs on the as-of date (age 0); signing_prices reads a stay's first agreement."""
    from simulator.fit.estimate import signing_prices
    from simulator.fit.history import client_tenures, records_until
    from simulator.fit.records import Spell

    cut = datetime.date(2024, 3, 1)
    start = datetime.date(2023, 3, 1)
    spells = (Spell(start, cut, 10, 1_000.0, 2), Spell(cut, None, 12, 1_440.0, 3))
    client = Client("A", start, None, 12, None, 1_440.0, 2, spells)
    deal = Deal(datetime.date(2024, 1, 10), "P", True, "won", datetime.date(2024, 3, 20), 2)
    c, d, _, _, _ = records_until([client], [deal], [], [], [], cut)
    assert c[0].spells == spells and (c[0].monthly_fee, c[0].seats) == (1_440.0, 12)
    assert d == [Deal(deal.date, "P", True, "open", None, 2)]
    before = datetime.date(2024, 2, 29)
    c, _, _, _, _ = records_until([client], [], [], [], [], before)
    assert c[0].spells == (Spell(start, None, 10, 1_000.0, 2),)
    assert (c[0].monthly_fee, c[0].seats) == (1_000.0, 10)
    assert signing_prices([client])[0].tolist() == [100.0]  # the first row's $1,000 / 10

    new = Client("N", cut, None, 5, None, 500.0, 4)
    tenures = client_tenures([client, new], cut)
    assert tenures["active"] == [366 / 365.25, 0.0] and tenures["ended"] == []
    assert tenures["ages"] == [366 / 365.25, 0.0] and tenures["truncated"] == 0


def test_a_fitted_value_reads_as_a_person_reads_it():
    """Plain digits from 1,000 with thousands separators, 4 significant digits below;
    dollars whole from $100, with cents below."""
    from simulator.fit.estimate import Fitted

    plain = Fitted("start.customers", 3, 3.0, (3.0, 3.0), 3, "c", "x")
    assert [plain.show(x) for x in (1_000.0, 999.5, 15_548.2, 0.11574)] == [
        "1,000", "999.5", "15,548", "0.1157"]
    money = Fitted("finance.overhead_per_month", 5_000.0, 5_000.0, (5_000.0, 5_000.0), 12,
                   "p", "y")
    assert [money.show(x) for x in (100.0, 99.5, 55_000.0)] == ["$100", "$99.50", "$55,000"]
    assert money.line() == "finance.overhead_per_month = $5,000: y"


def test_rows_without_seats_or_endpoints_are_skipped_and_as_of_sets_the_ticket_window():
    """An agreement row of 0 seats has no price per seat (it is skipped, not divided by);
    tickets of clients with no endpoints have no rate; fit_records gives the ticket fit
    its as-of date, which extends the exposure past the last ticket."""
    from simulator.fit.estimate import fit_price, fit_ticket_rate
    from simulator.fit.records import Spell

    per_seat = [98.0, 101, 100, 99, 102, 119, 121, 120, 122, 118]
    days = [datetime.date(2023, m, 1) for m in range(1, 11)]
    clients = [Client(f"C{j}", d, None, 10, None, 10 * p, j + 2)
               for j, (d, p) in enumerate(zip(days, per_seat, strict=True))]
    empty = Client("Z", datetime.date(2023, 11, 1), None, 0, None, 0.0, 40)
    paused = Client("P", datetime.date(2022, 1, 3), None, 10, None, 1_000.0, 50, (
        Spell(datetime.date(2022, 1, 3), datetime.date(2022, 6, 1), 10, 1_000.0, 50),
        Spell(datetime.date(2022, 6, 1), datetime.date(2022, 9, 1), 0, 0.0, 51),
        Spell(datetime.date(2022, 9, 1), None, 10, 1_000.0, 52)))
    with_both = {f.key: f for f in fit_price([*clients, empty, paused], "s")}
    alone = {f.key: f for f in fit_price(clients, "s")}
    assert with_both["customers.price_per_seat"].estimate == pytest.approx(
        alone["customers.price_per_seat"].estimate, rel=1e-12)
    assert with_both["customers.price_escalator"].count == 0  # no pair of priced rows

    start = datetime.date(2023, 1, 1)
    bare = [Client("A", start, None, 10, 0.0, 1_000.0, 2)]
    tickets = [Ticket(start + datetime.timedelta(days=k), None, "A", 1.0, "T", k)
               for k in range(5)]
    assert fit_ticket_rate(tickets, bare, start, datetime.date(2023, 2, 1), 1.2, "t") is None

    rng = np.random.default_rng(3)
    h = history(rng, months=18, start_clients=10)
    cut = h.as_of - datetime.timedelta(days=60)
    early = [t for t in h.tickets if t.created <= cut]
    as_of = cut + datetime.timedelta(days=45)
    got = fit_records(h.clients, None, early, None, as_of=as_of).get(
        "tickets.per_endpoint_reactive")
    from simulator.fit.history import records_until

    c, _, t, _, _ = records_until(h.clients, None, early, None, None, as_of)
    want = {f.key: f for f in fit_tickets(t, c, None, 1.2, "tickets", as_of)}
    short = {f.key: f for f in fit_tickets(t, c, None, 1.2, "tickets", None)}
    assert got == want["tickets.per_endpoint_reactive"]
    assert got.estimate != short["tickets.per_endpoint_reactive"].estimate


def test_fresh_sample_survivors_beta_cap_flat_drift_equal_fees_and_curves():
    """A second sample's survivors (seed 1): the beta's sd is capped at 0.999 sqrt(m (1 -
    m)); a history with the same rate in both halves gives no drift warning; a row
    re-papered at the same fee is no rise; equal seats give no lognormal; fit_records
    keeps the window's start and the left-truncated tenures as curves and passes the
    drift warning on; a ticket on the cut-off date counts."""
    from simulator.fit.estimate import beta_of, fit_book, fit_price
    from simulator.fit.history import client_tenures, records_until, records_window

    assert beta_of(0.5, 0.6) == {"dist": "beta", "mean": 0.5,
                                 "sd": pytest.approx(0.999 * 0.5, rel=1e-12)}
    assert beta_of(0.2, 0.6)["sd"] == pytest.approx(0.999 * math.sqrt(0.16), rel=1e-12)

    from simulator.fit.history import ticket_drift

    start = datetime.date(2023, 1, 1)
    clients = [Client("A", start, None, 10, None, 1_000, 2)]
    flat = [Ticket(start + datetime.timedelta(days=2 * k), None, "A", 1.0, "T", k)
            for k in range(60)]  # one every two days: the same rate in both halves
    assert ticket_drift(flat, clients, 1.2) is None

    same = [_stay(f"C{j}", datetime.date(2021, 1 + j, 4), [1_000.0 + 100 * j] * 2,
                  row=10 * j) for j in range(3)]
    price = {f.key: f for f in fit_price(same, "s")}["customers.price_per_seat"]
    assert "price change" not in price.comment
    equal = [Client(n, start, None, 12, None, 1_200, k) for k, n in enumerate("XYZ")]
    assert "customers.seats" not in {f.key for f in fit_book(equal, start, "b")}

    rng = np.random.default_rng(3)
    h = history(rng, months=18, start_clients=10, tickets_per_endpoint=0.9)
    late = h.tickets + [Ticket(h.as_of - datetime.timedelta(days=d), None,
                               h.clients[0].name, 1.0, "T", 10_000 + k)
                        for k, d in enumerate(range(0, 240, 2)) for _ in range(3)]
    got = fit_records(h.clients, None, late, None, as_of=h.as_of)
    window = records_window(h.clients, None, late, None)
    assert got.curves["window_start"] == window[0]
    c, _, t, _, _ = records_until(h.clients, None, late, None, None, h.as_of)
    assert got.curves["tenures"] == client_tenures(c, h.as_of, window[0])
    drift = ticket_drift(t, c, 1.2)
    assert drift is not None and drift in got.warnings
    cut = h.tickets[-1].created
    assert records_until(None, None, h.tickets, None, None, cut)[2][-1] == h.tickets[-1]


def test_a_client_without_endpoints_changes_no_ticket_rate():
    """The ticket rate is tickets over endpoint-months, with month-of-year effects over
    the months that have exposure: a client of 0 endpoints and no tickets, alone in two
    months of the year, adds no exposure, so the fit is the same to rounding (its months
    are not months of the year with exposure; counting them by entries would let them
    into the seasons' normalisation)."""
    from simulator.fit.estimate import fit_ticket_rate

    first, end = datetime.date(2023, 1, 1), datetime.date(2023, 9, 1)
    busy = Client("A", first, datetime.date(2023, 7, 1), 8, 10.0, 800, 2)
    empty = Client("Z", datetime.date(2023, 7, 1), None, 0, 0.0, 0, 3)
    per_month = {1: 30, 2: 10, 3: 22, 4: 5, 5: 15, 6: 26}  # seasons far from 1
    tickets = [Ticket(datetime.date(2023, m, 1 + k % 27), None, "A", 1.0, "Tech", k)
               for m, count in per_month.items() for k in range(count)]
    alone = fit_ticket_rate(tickets, [busy], first, end, 1.2, "t.csv")
    both = fit_ticket_rate(tickets, [busy, empty], first, end, 1.2, "t.csv")
    assert alone is not None and both is not None
    assert both.estimate == pytest.approx(alone.estimate, rel=1e-12, abs=0)
    assert both.value["median"] == pytest.approx(alone.value["median"], rel=1e-12, abs=0)
    assert both.comment == alone.comment


def test_technicians_by_month_run_to_a_last_record_on_the_first():
    """Months run from the first record's month to the last record's, that one included
    when the last record is on its first day; it is not a whole month, so ``now`` is the
    median over the whole months before it."""
    from simulator.fit.history import technicians_by_month
    from simulator.fit.records import WorkEntry

    work = [WorkEntry(datetime.date(2024, 1, 10), "T1", 2.0, 2),
            WorkEntry(datetime.date(2024, 2, 10), "T1", 2.0, 3),
            WorkEntry(datetime.date(2024, 2, 11), "T2", 2.0, 4),
            WorkEntry(datetime.date(2024, 2, 12), "T3", 2.0, 5),
            WorkEntry(datetime.date(2024, 2, 12), "Owner", 2.0, 6),
            WorkEntry(datetime.date(2024, 3, 1), "T2", 2.0, 7)]
    got = technicians_by_month([], work, "Owner")
    assert got["months"] == [datetime.date(2024, m, 1) for m in (1, 2, 3)]
    assert got["techs"] == [1, 3, 1]
    assert got["now"] == 2  # median of January's 1 and February's 3


def test_ticket_drift_with_a_first_half_under_one_endpoint_month():
    """The drift warning compares tickets per endpoint between the two halves with the
    Poisson means test, whatever the halves' exposure: here 20 days of one endpoint each
    (0.66 endpoint-months), 35 tickets in the first and 5 in the second."""
    from simulator.fit.history import DAYS_PER_MONTH, ticket_drift

    start = datetime.date(2024, 1, 1)
    client = Client("A", start, None, 1, 1.0, 100, 2)
    days = [k % 20 for k in range(35)] + [20, 25, 30, 35, 39]
    tickets = [Ticket(start + datetime.timedelta(days=d), None, "A", 1.0, "T", k)
               for k, d in enumerate(days)]
    half = 20 / DAYS_PER_MONTH
    assert half < 1
    p = stats.poisson_means_test(35, half, 5, half).pvalue
    assert p < 0.01
    got = ticket_drift(tickets, [client], 1.2)
    assert got is not None
    assert got.startswith(f"tickets per endpoint drifted: {35 / half:.2f} in the first half "
                          f"of the history, {5 / half:.2f} in the second")


def test_the_close_rate_warning_is_for_under_ten_decided_proposals():
    """``fit_records`` warns about the close rate with fewer than 10 decided proposals
    (won or lost; open ones and deals without a proposal do not count): 10 do not warn."""
    def warned(deals):
        got = fit_records(deals=deals, sources={"pipeline": "p.csv"})
        return [w for w in got.warnings if w.startswith("close rate")]

    assert warned(_deals(4, 6, 3, 2)) == []
    assert warned(_deals(4, 5, 3, 2)) == ["close rate: only 9 decided proposals in p.csv"]


def test_add_months_is_the_first_of_the_month_so_many_months_on():
    from simulator.fit.history import add_months

    assert add_months(datetime.date(2024, 11, 15), 3) == datetime.date(2025, 2, 1)
    assert add_months(datetime.date(2024, 1, 31), -1) == datetime.date(2023, 12, 1)
    assert add_months(datetime.date(2024, 5, 1), 0) == datetime.date(2024, 5, 1)


def test_ticket_drift_needs_forty_tickets_and_a_book():
    """Under 40 tickets (or without clients) the halves are not compared, however far
    apart: 35 tickets in the first half and 4 in the second give no warning; one more
    in the second half (40) does."""
    from simulator.fit.history import ticket_drift

    start = datetime.date(2024, 1, 1)
    client = Client("A", start, None, 10, 10.0, 1000, 2)
    days = [k % 28 for k in range(35)] + [40, 45, 50, 59, 59]

    def tickets(d):
        return [Ticket(start + datetime.timedelta(days=x), None, "A", 1.0, "T", k)
                for k, x in enumerate(d)]

    assert ticket_drift(tickets(days[:-1]), [client], 1.2) is None
    assert ticket_drift(tickets(days), [], 1.2) is None
    assert ticket_drift(tickets(days), [client], 1.2) is not None


def test_an_exact_price_step_of_cents_is_a_step():
    """Prices that step exactly (no spread on either side) are a step at any level,
    however small the step: 20 cents a seat."""
    from simulator.fit.estimate import price_change_point

    prices = np.array([50.0] * 4 + [50.2] * 4)
    assert price_change_point(prices) == (4, 0.0)
    assert price_change_point(np.full(8, 50.0)) is None


def test_an_agreement_re_papered_31_days_on_is_a_rise():
    """docs/fit.md: a row that follows another within 31 days is the same stay
    re-papered. Three agreements of one client, each starting 31 days after the last
    ended, each 10% dearer per seat: two rises on one stay, so an escalator of 10%."""
    from simulator.fit.estimate import fit_price
    from simulator.fit.records import Spell

    d = [datetime.date(2022, 1, 1), datetime.date(2023, 1, 1), datetime.date(2023, 2, 1),
         datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)]
    assert (d[2] - d[1]).days == (d[4] - d[3]).days == 31
    spells = (Spell(d[0], d[1], 10, 1_000.0, 2), Spell(d[2], d[3], 10, 1_100.0, 3),
              Spell(d[4], None, 10, 1_210.0, 4))
    client = Client("A", d[0], None, 10, None, 1_210.0, 2, spells)
    (escalator,) = [f for f in fit_price([client], "c.csv")
                    if f.key == "customers.price_escalator"]
    assert escalator.estimate == pytest.approx(0.10, rel=1e-12)


def test_the_book_is_exact_so_its_interval_has_no_width():
    """docs/fit.md, "Today's book, exactly": the book is read, not estimated, so its
    90% interval (written to fit.json) has no width, like any exact value's."""
    from simulator.fit.estimate import fit_book

    as_of = datetime.date(2024, 6, 1)
    clients = [Client("A", datetime.date(2023, 1, 1), None, 10, None, 1_000.0, 2),
               Client("B", datetime.date(2023, 5, 1), None, 4, None, 500.0, 3)]
    (book,) = [f for f in fit_book(clients, as_of, "b") if f.key == "start.book"]
    assert book.estimate == 1_500.0
    assert book.interval90[0] == book.interval90[1]


def test_a_client_under_one_endpoint_month_in_the_seasons_fit():
    """The month-of-year factors are the Poisson log-linear model's (client and
    month-of-year effects; scipy.optimize here) also with a client whose whole exposure
    is under one endpoint-month (half an endpoint for March): its own rate is its
    tickets over that exposure, however small."""
    from simulator.fit.estimate import fit_ticket_rate, negative_binomial_rate
    from simulator.fit.history import client_month_counts

    first, end = datetime.date(2022, 1, 1), datetime.date(2023, 1, 1)
    clients = [Client("A", first, None, 8, 10, 800, 2),
               Client("B", datetime.date(2022, 4, 1), None, 16, 20, 1600, 3),
               Client("E", datetime.date(2022, 3, 1), datetime.date(2022, 4, 1), 1, 0.5, 90,
                      4)]
    per_month = {"A": [20, 18, 15, 12, 10, 8, 8, 10, 12, 15, 18, 20],
                 "B": [0, 0, 0, 30, 22, 15, 14, 19, 27, 31, 37, 41],
                 "E": [0, 0, 4] + [0] * 9}
    tickets = [Ticket(datetime.date(2022, m + 1, 1 + k % 28), None, name, 1.0, "T", k)
               for name, counts in per_month.items() for m, count in enumerate(counts)
               for k in range(count)]
    got = fit_ticket_rate(tickets, clients, first, end, 1.2, "t.csv")
    n, e, moy, who = client_month_counts(tickets, clients, first, end, 1.2)
    assert np.bincount(who, weights=e)[2] < 1

    factor = _season_factors(n, e, moy, who, clients=3)
    rate, _, _ = negative_binomial_rate(np.bincount(who, weights=n),
                                        np.bincount(who, weights=factor[moy] * e))
    assert got.estimate == pytest.approx(rate, rel=1e-4)


def test_technicians_now_over_two_months_the_last_in_progress():
    """``now`` is the median of the last three *whole* months: with two months of
    records and the last record mid-month, February is still running, so ``now`` is
    January's count alone (1), not the median of 1 and 3; a record on February's last
    day makes February whole; with one month only, that month is all there is."""
    from simulator.fit.history import technicians_by_month
    from simulator.fit.records import WorkEntry

    def now(days):
        work = [WorkEntry(datetime.date(2024, 1, 10), "T1", 1.0, 2)]
        work += [WorkEntry(day, f"T{k}", 1.0, 3 + k) for k, day in enumerate(days, start=1)]
        got = technicians_by_month([], work, None)
        return got["techs"], got["now"]

    feb = [datetime.date(2024, 2, d) for d in (5, 10, 12)]
    assert now(feb) == ([1, 3], 1)                                # February in progress
    assert now(feb[:2] + [datetime.date(2024, 2, 29)]) == ([1, 3], 2)  # February whole
    assert now([]) == ([1], 1)                                    # one month only


def test_new_clients_seats_run_to_twice_the_largest_or_at_least_ten():
    """docs/fit.md: new clients' seats are the lognormal fitted to the clients' seats,
    between 1 and twice the largest client's seats, at least 10: a book of 2 to 5
    seats keeps the bound at 10, one of up to 6 seats moves it to 12."""
    from simulator.fit.estimate import fit_book

    def high(seats):
        clients = [Client(f"C{k}", datetime.date(2023, 1, 1), None, s, None, 100.0 * s, k)
                   for k, s in enumerate(seats, start=2)]
        (got,) = [f for f in fit_book(clients, datetime.date(2024, 1, 1), "b")
                  if f.key == "customers.seats"]
        assert got.value["low"] == 1.0
        return got.value["high"]

    assert high([2, 3, 5]) == 10.0
    assert high([2, 3, 6]) == 12.0


def test_the_records_window_and_fit_records_time_entries_and_refusal():
    """docs/fit.md: the records begin at the earliest activity that is not a signing (a
    ticket, a meeting; a cancellation is one too), at the first signing only when the
    clients table is all there is; an as-of date before that is refused naming it; the
    technicians count the resources of time entries beside those of tickets."""
    from simulator.fit.history import records_window
    from simulator.fit.records import WorkEntry

    clients = [Client("A", datetime.date(2020, 3, 1), None, 10, None, 1_000, 2),
               Client("B", datetime.date(2021, 6, 1), datetime.date(2023, 8, 1), 5, None,
                      500, 3)]
    tickets = [Ticket(datetime.date(2023, m, 5), None, "A", 1.0 + m, "T1", m)
               for m in range(2, 7)]
    work = [WorkEntry(datetime.date(2023, m, 6), "T2", 2.0, m) for m in range(2, 7)]
    deals = [Deal(datetime.date(2023, 3, 10), "P", True, "lost", datetime.date(2023, 4, 2),
                  2)]
    last = datetime.date(2023, 8, 1)
    assert records_window(clients, None, tickets, None) == (datetime.date(2023, 2, 5), last)
    assert records_window(clients, deals, None, None) == (datetime.date(2023, 3, 10), last)
    assert records_window(clients, None, None, None) == (datetime.date(2020, 3, 1), last)
    with pytest.raises(ValueError, match=r"`as_of` 2023-02-04 is before the records begin "
                                         r"\(2023-02-05\); allowed: a date on or after it"):
        fit_records(clients, tickets=tickets, as_of=datetime.date(2023, 2, 4))
    # February to May are whole months, each with T1 (tickets) and T2 (time entries)
    assert fit_records(clients, tickets=tickets, work=work).get("start.techs").value == 2
    assert fit_records(clients, tickets=tickets).get("start.techs").value == 1


def test_a_stay_of_one_day_zero_hour_tickets_and_projects_under_a_dollar():
    """A client who signs and cancels on the as-of date has a stay that ended (0 years:
    one cancellation, no exposure); tickets of 0 hours give no escalation share (no
    hours to share) and no warning; ``fit_pnl`` fits projects for any project size above
    0 (a size of $0.50 here: 12 x the months' mean over 10 clients x 0.5)."""
    from simulator.fit.estimate import fit_pnl
    from simulator.fit.history import client_tenures

    as_of = datetime.date(2024, 6, 1)
    clients = [Client("A", datetime.date(2023, 6, 1), None, 10, None, 1_000, 2),
               Client("B", as_of, as_of, 5, None, 500, 3)]
    got = client_tenures(clients, as_of)
    assert got["ended"] == [0.0] and got["active"] == [pytest.approx(366 / 365.25)]
    assert fit_churn(clients, as_of, "c").count == 1
    zero = [Ticket(datetime.date(2024, 1, d), None, "A", 0.0, r, d)
            for d, r in ((2, "Owner"), (3, "T1"), (4, "T1"))]
    assert "staff.escalation_share" not in {
        f.key for f in fit_tickets(zero, None, "Owner", 1.2, "t", as_of)}
    months = _pnl()
    (projects,) = [f for f in fit_pnl(months, 2, 10, 400.0, 100.0, "p", project_size=0.5)
                   if f.key == "projects.per_customer_year"]
    mean = np.mean([m.revenue_projects for m in months])
    assert projects.estimate == pytest.approx(mean * 12 / (10 * 0.5), rel=1e-12)


def test_cut_offs_truncation_on_the_first_day_and_fit_records_words():
    """A time entry on the cut-off date is in the records (later ones are not, also for
    the technicians of a fit with ``as_of``); a client signed on the records' first day
    was not already in place (no left truncation); the words of a price without a step,
    of a fit without records and of the churn warning."""
    from simulator.fit.estimate import fit_price
    from simulator.fit.history import client_tenures, records_until
    from simulator.fit.records import WorkEntry

    cut = datetime.date(2023, 3, 31)
    on, after = WorkEntry(cut, "T1", 1.0, 2), WorkEntry(cut + datetime.timedelta(1), "T1",
                                                        1.0, 3)
    assert records_until(None, None, None, None, [on, after], cut)[4] == [on]
    w = datetime.date(2023, 2, 1)
    clients = [Client("A", datetime.date(2020, 3, 1), None, 10, None, 1_000, 2),
               Client("B", w, datetime.date(2023, 8, 1), 5, None, 600, 3),
               Client("C", datetime.date(2021, 1, 1), None, 8, None, 900, 4)]
    assert client_tenures(clients, cut, w)["truncated"] == 2  # A and C, not B
    price = {f.key: f for f in fit_price(clients, "c")}["customers.price_per_seat"]
    assert price.comment.startswith("fitted from c: mean fee per seat of 3 clients, "
                                    "standard error $")
    with pytest.raises(ValueError, match=r"^no dated records; allowed: at least one row$"):
        fit_records()
    tickets = [Ticket(datetime.date(2023, m, 5), None, "A", 1.0, "T1", m) for m in (2, 3)]
    work = [WorkEntry(datetime.date(2023, m, 6), r, 1.0, 10 * m + k)
            for m in range(2, 7) for k, r in enumerate(["T2"] + ["T3", "T4"] * (m > 3))]
    got = fit_records(clients, tickets=tickets, work=work, as_of=cut)
    assert got.get("start.techs").value == 2  # February and March: T1 and T2
    assert "churn: only 0 cancellations in clients: the churn distribution is wide" \
        in got.warnings


def test_todays_price_leaves_out_a_latest_agreement_of_no_seats():
    """After a rise re-papered across the book, today's price is each client's latest
    agreement's fee per seat: a latest agreement of 0 seats has none and is left out
    (the three others, at $110, $115 and $112 a seat)."""
    from simulator.fit.estimate import fit_price
    from simulator.fit.records import Spell

    clients = [_stay(f"C{j}", datetime.date(2021, 1 + j, 4), [1_000.0, fee], row=10 * j)
               for j, fee in enumerate((1_100.0, 1_150.0, 1_120.0))]
    start, cut = datetime.date(2021, 5, 1), datetime.date(2022, 5, 1)
    clients.append(Client("Z", start, None, 0, None, 0.0, 40,
                          (Spell(start, cut, 10, 1_000.0, 40), Spell(cut, None, 0, 0.0, 41))))
    price = {f.key: f for f in fit_price(clients, "c")}["customers.price_per_seat"]
    assert price.count == 3 and price.estimate == pytest.approx((110 + 115 + 112) / 3)


def test_technicians_now_is_the_median_of_the_last_three_whole_months_not_four():
    """docs/fit.md: ``start.techs`` is the median of the last three whole months: January
    9 resources, February and March 1, April 3 (its last day recorded, so whole): the
    median of 1, 1 and 3 is 1 (of the last four it would be 2, of the last two 2)."""
    from simulator.fit.history import technicians_by_month
    from simulator.fit.records import WorkEntry

    work = [WorkEntry(datetime.date(2024, 1, 3), f"T{k}", 1.0, k) for k in range(9)]
    work += [WorkEntry(datetime.date(2024, m, 9), "T0", 1.0, 10 + m) for m in (2, 3)]
    work += [WorkEntry(datetime.date(2024, 4, 30), f"T{k}", 1.0, 20 + k) for k in range(3)]
    got = technicians_by_month([], work, None)
    assert got["techs"] == [9, 1, 1, 3] and got["now"] == 1


def test_churn_comment_names_clients_in_place_only_when_there_are_some():
    """docs/fit.md: stays are left-truncated at the records' first date, clients in place
    then counted from then. A and B both sign on that date: none was in place, so the
    comment has no left-truncation note; from a later first date both were, and the
    note says how many and from when. Exposure in client-years by hand (365.25 days)."""
    w = datetime.date(2023, 1, 1)
    as_of = datetime.date(2024, 1, 1)
    gone = datetime.date(2023, 7, 2)
    clients = [Client("A", w, gone, 5, None, 500.0, 2), Client("B", w, None, 5, None, 500.0, 3)]

    def words(exposure_days, note=""):
        years = exposure_days / 365.25
        return (f"fitted from c: 1 cancellations in {years:.0f} client-years; MLE "
                f"{100 * (1 - math.exp(-1 / years)):.1f}%/year{note}")

    got = fit_churn(clients, as_of, "c", w)
    assert got.comment == words((gone - w).days + (as_of - w).days)
    later = datetime.date(2023, 3, 1)
    got = fit_churn(clients, as_of, "c", later)
    assert got.comment == words((gone - later).days + (as_of - later).days,
                                ", 2 clients already in place on 2023-03-01 counted from "
                                "then (left truncation)")


def test_time_entries_begin_and_end_the_records():
    """docs/fit.md: the as-of date defaults to the last activity, a time entry among them,
    and the records begin at the earliest activity that is not a signing (a time entry
    too): entries on 2023-02-01 and 2023-09-20 around tickets of March to June set the
    window, and the client signed in 2022 is in place at its start (left-truncated)."""
    from simulator.fit.records import WorkEntry

    clients = [Client("A", datetime.date(2022, 1, 1), None, 10, None, 1_000.0, 2)]
    tickets = [Ticket(datetime.date(2023, m, 5), None, "A", 1.0, "T1", m) for m in range(3, 7)]
    first, last = datetime.date(2023, 2, 1), datetime.date(2023, 9, 20)
    work = [WorkEntry(first, "T2", 1.0, 2), WorkEntry(last, "T2", 1.0, 3)]
    got = fit_records(clients, tickets=tickets, work=work)
    assert got.as_of == last and got.curves["window_start"] == first
    assert "1 clients already in place on 2023-02-01" in got.get("churn.annual_rate").comment
    plain = fit_records(clients, tickets=tickets)
    assert plain.as_of == datetime.date(2023, 6, 5)
    assert plain.curves["window_start"] == datetime.date(2023, 3, 5)


def test_records_as_they_stood_on_the_cut_off_day_itself():
    """docs/fit.md: with ``--as-of``, later records are left out. On the cut-off day
    itself: a client signed then is in the book (the next day's is not), a cancellation
    then is known (the next day's is not), a meeting and a decision then count (the next
    day's decision is not yet made), a ticket then counts; a P&L month still running on
    the cut-off is left out (the month before is in)."""
    from simulator.fit.history import records_until
    from simulator.fit.records import PnlMonth

    cut = datetime.date(2024, 3, 1)
    nxt = cut + datetime.timedelta(days=1)
    old = datetime.date(2023, 1, 1)
    clients = [Client("On", cut, None, 5, None, 500.0, 2),
               Client("Next", nxt, None, 5, None, 500.0, 3),
               Client("Gone", old, cut, 5, None, 500.0, 4),
               Client("Later", old, nxt, 5, None, 500.0, 5)]
    deals = [Deal(cut, "M", False, "open", None, 2), Deal(nxt, "N", False, "open", None, 3),
             Deal(old, "D", True, "won", cut, 4), Deal(old, "E", True, "lost", nxt, 5)]
    tickets = [Ticket(cut, None, "On", 1.0, "T", 2), Ticket(nxt, None, "On", 1.0, "T", 3)]
    pnl = [PnlMonth(datetime.date(2024, 2, 1), 1.0, 1.0, 1.0, 2),
           PnlMonth(cut, 1.0, 1.0, 1.0, 3)]
    c, d, t, p, _ = records_until(clients, deals, tickets, pnl, [], cut)
    assert [(x.name, x.end) for x in c] == [("On", None), ("Gone", cut), ("Later", None)]
    assert [(x.prospect, x.outcome, x.close_date) for x in d] == [
        ("M", "open", None), ("D", "won", cut), ("E", "open", None)]
    assert t == tickets[:1] and p == pnl[:1]


def test_the_fits_warnings_their_words_and_thresholds():
    """The fit's warnings (docs/fit.md, "Warnings"): under 5 cancellations the churn
    distribution is wide (4 warn, 5 do not); without ``--owner`` the escalation share is
    not fitted, and the warning says how to give it (none with an owner)."""
    def clients(cancelled):
        gone = [Client(f"G{k}", datetime.date(2022, 1, 1), datetime.date(2023, 1 + k, 1), 5,
                       None, 500.0, k) for k in range(cancelled)]
        return gone + [Client("A", datetime.date(2022, 1, 1), None, 5, None, 500.0, 20)]

    def churn_warnings(got):
        return [w for w in got.warnings if w.startswith("churn")]

    four = fit_records(clients(4), sources={"clients": "c.csv"})
    assert churn_warnings(four) == [
        "churn: only 4 cancellations in c.csv: the churn distribution is wide"]
    assert churn_warnings(fit_records(clients(5))) == []
    tickets = [Ticket(datetime.date(2022, m, 5), None, "A", 1.0, "T1", m) for m in (2, 3)]
    bare = fit_records(clients(5), tickets=tickets)
    assert [w for w in bare.warnings if w.startswith("escalation")] == [
        "escalation share: not fitted (give --owner NAME, the owner's resource in the "
        "tickets)"]
    owned = fit_records(clients(5), tickets=tickets, owner="Jane")
    assert not [w for w in owned.warnings if w.startswith("escalation")]


def test_each_value_needs_enough_records():
    """Below what a value needs, the fit leaves it to its default (docs/fit.md, "What is
    fitted"): a price rise re-papered across the book needs three agreements re-papered
    at a higher fee (two are not one: the price is every signing's, $100, $110 and
    $120 a seat); new clients' seats need three clients of different sizes; projects per
    client-year need two months of P&L and clients."""
    from simulator.fit.estimate import fit_book, fit_pnl

    starts = [datetime.date(2021, 1, 4), datetime.date(2021, 2, 1)]
    clients = [_stay(f"C{j}", s, [1_000.0 + 100 * j, 1_100.0 + 100 * j], row=10 * j)
               for j, s in enumerate(starts)]
    clients.append(Client("P", datetime.date(2022, 6, 1), None, 10, None, 1_200.0, 30))
    got = {f.key: f for f in fit_book(clients, datetime.date(2023, 1, 1), "s")}
    price = got["customers.price_per_seat"]
    assert price.count == 3 and price.estimate == pytest.approx(110.0, rel=1e-12)
    assert price.comment == ("fitted from s: mean fee per seat of 3 clients, standard error "
                             f"${10 / math.sqrt(3):.2f}")
    assert "customers.seats" not in got  # three clients of 10 seats: one size

    def seats(sizes):
        book = [Client(f"S{k}", datetime.date(2022, 1, 1), None, n, None, 100.0 * n, k)
                for k, n in enumerate(sizes)]
        return {f.key for f in fit_book(book, datetime.date(2023, 1, 1), "s")}

    assert "customers.seats" not in seats([4, 8])
    assert "customers.seats" in seats([4, 8, 8])
    pnl = _pnl(2)

    def projects(months, customers):
        return {f.key for f in fit_pnl(pnl[:months], 1, customers, 400.0, 100.0, "q",
                                       project_size=5_000.0)}

    assert "projects.per_customer_year" in projects(2, 10)
    assert "projects.per_customer_year" not in projects(1, 10)
    assert "projects.per_customer_year" not in projects(2, 0)


def test_zero_seats_a_cancellation_on_the_first_day_and_the_hours_words():
    """An agreement of 0 seats has no price per seat: a stay whose first agreement is
    of 0 seats gives no signing price, and its re-papering at $1,000 for 10 seats is no
    rise and no re-papered price (today's price: $100 and $120 a seat of the others).
    A cancellation is an activity: one on the records' first day starts the window, is
    an event with no exposure, and that client was in place then (docs/fit.md: the
    records begin at the earliest activity that is not a signing). Hours per ticket
    read as the mean of so many tickets' hours with its standard error; the report's
    curve of tickets per endpoint by month is kept with the fit."""
    from simulator.fit.estimate import fit_price
    from simulator.fit.records import Spell

    s, cut = datetime.date(2021, 1, 4), datetime.date(2021, 3, 1)
    clients = [Client("Z", s, None, 10, None, 1_000.0, 2,
                      (Spell(s, cut, 0, 0.0, 2), Spell(cut, None, 10, 1_000.0, 3))),
               Client("A", s, None, 10, None, 1_000.0, 4),
               Client("B", cut, None, 10, None, 1_200.0, 5)]
    got = {f.key: f for f in fit_price(clients, "c")}
    assert got["customers.price_per_seat"].count == 2
    assert got["customers.price_per_seat"].estimate == 110.0
    assert got["customers.price_escalator"].comment == (
        "fitted from c: 0 fee rises on 0 re-papered agreements of 1 clients; at most one "
        "per client, read as a one-off price change (today's fees are in the book)")

    first, old = datetime.date(2023, 2, 1), datetime.date(2020, 1, 1)
    book = [Client("A", old, first, 5, None, 500.0, 2), Client("B", old, None, 5, None, 500.0, 3)]
    tickets = [Ticket(datetime.date(2023, m, 5), None, "B", 0.5 * m, "T1", m)
               for m in range(3, 7)]
    fit = fit_records(book, tickets=tickets, sources={"tickets": "t.csv"})
    assert fit.curves["window_start"] == first and fit.as_of == datetime.date(2023, 6, 5)
    churn = fit.get("churn.annual_rate")
    years = (fit.as_of - first).days / 365.25
    assert churn.count == 1 and churn.comment == (
        f"fitted from clients: 1 cancellations in {years:.0f} client-years; MLE "
        f"{100 * (1 - math.exp(-1 / years)):.1f}%/year, 2 clients already in place on "
        "2023-02-01 counted from then (left truncation)")
    hours = np.array([1.5, 2.0, 2.5, 3.0])
    se = hours.std(ddof=1) / 2
    assert fit.get("tickets.hours_reactive").comment == (
        f"fitted from t.csv: mean of 4 tickets' hours, standard error {se:.3f}")
    # fit.html's curve: tickets per endpoint by month, B's 5 seats x 1.2 endpoints a
    # seat over each month's days (A left before March)
    curve = fit.curves["tickets_by_month"]
    assert curve["months"] == ["2023-03", "2023-04", "2023-05", "2023-06"]
    assert curve["tickets"] == [1, 1, 1, 1]
    np.testing.assert_allclose(curve["per_endpoint"],
                               [1 / (6 * d / (365.25 / 12)) for d in (31, 30, 31, 30)],
                               rtol=1e-12)


def test_the_fit_logs_line_and_the_90_percent_interval():
    """The fit log's line: ``key = estimate (90% interval low to high): comment``, no
    interval for an exact value, the book as its clients and its MRR; the 90% interval
    of a distribution is its 5th to 95th percentile (a normal's mean -+ 1.645 sd), of a
    number the number itself."""
    from simulator.fit.estimate import Fitted, interval90_of

    rate = Fitted("churn.annual_rate", {"dist": "beta", "mean": 0.1, "sd": 0.03}, 0.1157,
                  (0.05, 0.2), 10, "c", "z")
    assert rate.line() == "churn.annual_rate = 0.1157 (90% interval 0.05 to 0.2): z"
    book = Fitted("start.book", [{"client": "A"}, {"client": "B"}], 7_400.0, (0.0, 0.0), 2,
                  "b", "w")
    assert book.line() == "start.book: 2 clients, $7,400/month: w"
    assert interval90_of(3.5) == (3.5, 3.5)
    low, high = interval90_of({"dist": "normal", "mean": 10.0, "sd": 2.0})
    np.testing.assert_allclose([low, high], [10 - 1.6448536 * 2, 10 + 1.6448536 * 2],
                               rtol=1e-7)


def test_one_ticket_and_one_seat_agreements_are_fitted():
    """A single ticket is a history: one client of 10 seats (12 endpoints) and one
    ticket in January give the rate 1 over January's 12 x 31 / (365.25 / 12)
    endpoint-months (one client: the negative binomial's MLE is its own rate). A client
    of one seat re-papered twice at +5% is two fee rises of 5% (the escalator: more
    rises than clients)."""
    from simulator.fit.estimate import fit_price

    clients = [Client("A", datetime.date(2023, 1, 1), None, 10, None, 1_000.0, 2)]
    tickets = [Ticket(datetime.date(2024, 1, 10), None, "A", 1.0, "T1", 2)]
    got = {f.key: f for f in fit_tickets(tickets, clients, None, 1.2, "t",
                                         as_of=datetime.date(2024, 1, 31))}
    rate = got["tickets.per_endpoint_reactive"]
    assert rate.count == 1
    np.testing.assert_allclose(rate.estimate, 1 / (12 * 31 / (365.25 / 12)), rtol=1e-5)
    one = _stay("S", datetime.date(2021, 1, 4), [100.0, 105.0, 110.25], seats=1.0)
    esc = {f.key: f for f in fit_price([one], "c")}["customers.price_escalator"]
    assert esc.count == 2 and esc.value == pytest.approx(0.05, abs=1e-12)


def test_seed_11_edges_signed_today_exact_intervals_short_exposure_and_drift():
    """A client signed on the as-of date is in today's book (docs/fit.md: the clients
    active at the as-of date), at contract month 0; exact values (the book's count,
    endpoints per seat) have an interval of no width; a history under one
    endpoint-month (one endpoint for 20 days) with a ticket is fitted; the drift
    warning of a fit counts endpoints as seats x the fit's ``endpoints_per_seat``."""
    from simulator.fit.estimate import fit_book

    as_of = datetime.date(2024, 1, 1)
    clients = [Client("A", datetime.date(2023, 1, 1), None, 10, 12, 1_000.0, 2),
               Client("T", as_of, None, 4, 5, 400.0, 3)]
    got = {f.key: f for f in fit_book(clients, as_of, "b")}
    assert got["start.book"].value[-1] == {"client": "T", "seats": 4, "monthly_fee": 400.0,
                                           "contract_month": 0}
    assert got["start.customers"].value == 2
    assert got["start.customers"].interval90 == (2, 2)
    assert got["customers.endpoints_per_seat"].interval90 == (17 / 14, 17 / 14)

    short = [Client("S", datetime.date(2024, 3, 1), datetime.date(2024, 3, 21), 1, 1, 100.0, 2)]
    tickets = [Ticket(datetime.date(2024, 3, 5), None, "S", 1.0, "T1", 2)]
    rate = {f.key: f for f in fit_tickets(tickets, short, None, 1.2, "t",
                                          as_of=datetime.date(2024, 3, 31))}[
        "tickets.per_endpoint_reactive"]
    np.testing.assert_allclose(rate.estimate, 1 / (20 / (365.25 / 12)), rtol=1e-5)

    book = [Client("A", datetime.date(2022, 1, 1), None, 10, None, 1_000.0, 2)]
    days = [datetime.date(2023, 1, 3 + k) for k in range(5)]
    days += [datetime.date(2023, 2, 3 + k) for k in range(5)]
    days += [datetime.date(2023, 3, 10 + k % 15) for k in range(20)]
    days += [datetime.date(2023, 4, 10 + k % 15) for k in range(19)] + [datetime.date(2023, 4, 30)]
    tickets = [Ticket(d, None, "A", 1.0, "T1", k) for k, d in enumerate(days)]
    fit = fit_records(book, tickets=tickets, endpoints_per_seat=2.0)
    # the halves split the first ticket (3 January) to the day after the last (1 May):
    # 59 days each, 20 endpoints
    e = 20 * (datetime.date(2023, 5, 1) - days[0]).days / 2 / (365.25 / 12)
    drift = [w for w in fit.warnings if w.startswith("tickets per endpoint drifted")]
    assert len(drift) == 1 and drift[0].startswith(
        f"tickets per endpoint drifted: {10 / e:.2f} in the first half of the history, "
        f"{40 / e:.2f} in the second")
