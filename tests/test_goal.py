"""Goal seek (simulator.analysis.goal) against closed forms.

**Known answer: an M/M/infinity business.** With every feedback switched off
(no tickets or other technician work, no account care, no management, no
escalations, no legacy business, no churn penalty, no costs), one
salesperson at full speed from month 1 makes Poisson(lambda) meetings a
month (``sales.rep_meetings_per_month``, the lever), each
signs with probability ``p = proposal_rate * close_rate`` in the same month
(cycle 0), and every customer churns with the monthly hazard
``h = 1 - (1 - annual_rate)^(1/12)``. Starting from no customers, the
customers at month t are then exactly Poisson with mean
``mu(t) = lambda p (1 - (1 - h)^t) / h`` (Poisson arrivals thinned by
independent survival; the mean follows docs/model.md's recursion
``n_t = (1 - h) n_{t-1} + lambda p``). With one seat per customer at
$1000/seat and no cloud, MRR = 1000 x customers, so

* ``customers_mean_H >= m`` is met from ``lambda* = m h / (p (1 - (1-h)^H))``;
* ``p_mrr_above_H >= q`` (P(customers at H >= k), threshold 1000 k) from the
  ``lambda`` solving ``poisson.sf(k - 1, mu(H)) = q``;
* with no churn (pure birth) the customers never fall, so breaking the
  threshold by H is having k customers at H: ``p_break_by_H >= q`` is met
  from ``poisson.sf(k - 1, lambda p H) = q``.

Each test checks that the closed-form lever value lies in the goal seek's
95% interval for it (``value_ci95``) and that the closed-form outcome at the
value found lies in the 95% interval of the achieved outcome. Seeds are
fixed (deterministic); a priori each containment fails for 5% of seeds.
"""

from __future__ import annotations

import math

import pytest
from scipy import optimize, stats
from test_reference import NO_COSTS

from simulator.analysis import GoalUnreachable, goal_seek, parse_target
from simulator.analysis.goal import default_range, parse_range
from simulator.config import ConfigError, config_from_dict, param_specs

H = 60
P_SIGN = 0.5
ANNUAL = 0.5
HAZARD = 1 - (1 - ANNUAL) ** (1 / 12)
N = 1500


def mm_inf(**extra) -> dict:
    """The M/M/infinity business of the module docstring (rep_meetings_per_month = 4)."""
    data = {
        # the first touch of the threshold (sustain_months = 1) has the closed forms below
        "simulation": {"months": H, "threshold_mrr": 45_000, "paths": N, "seed": 7,
                       "sustain_months": 1},
        "start": {"customers": 0, "techs": 0, "cash": 1e6},
        "sales": {"meetings_per_selling_hour": 0.0, "reps": 1, "rep_meetings_per_month": 4.0,
                  "rep_ramp_months": 0, "rep_cost_per_month": 0, "proposal_rate": 1.0,
                  "close_rate": P_SIGN, "cycle_months": 0,
                  # a rep who stays and books the plan (model v4 draws washouts)
                  "rep_washout_share": 0.0, "rep_productivity": 1.0},
        "customers": {"seats": 1, "price_per_seat": 1000, "account_hours_per_month": 0,
                      "price_escalator": 0, "onboarding_hours_per_seat": 0},
        "cloud": {"adoption": 0},
        "churn": {"annual_rate": ANNUAL, "visibility_reduction": 0, "overload_sensitivity": 0},
        "tickets": {"per_endpoint_reactive": 0, "per_endpoint_aligned": 0,
                    "proactive_hours_per_endpoint": 0},
        "staff": {"escalation_share": 0, "management_hours_per_employee": 0,
                  "tech_cost_per_month": 0, "tech_turnover_annual": 0},
        "projects": {"per_customer_year": 0, "product_spend_per_seat_year": 0},
        "finance": dict(NO_COSTS),
    }
    for key, value in extra.items():
        section, name = key.split("__")
        data.setdefault(section, {})[name] = value
    return data


def mean_customers(lam: float, h: float = HAZARD, t: int = H) -> float:
    return lam * P_SIGN * (1 - (1 - h) ** t) / h


def inside(x: float, interval) -> bool:
    lo, hi = interval
    return (lo is None or lo <= x) and (hi is None or x <= hi)


def test_mm_inf_mean_customers():
    cfg = config_from_dict(mm_inf())
    closed = 40 * HAZARD / (P_SIGN * (1 - (1 - HAZARD) ** H))  # 4.635 meetings/month
    res = goal_seek(cfg, "sales.rep_meetings_per_month", "customers_mean_60 >= 40")
    assert res.direction == "increasing" and res.range == (2.0, 6.0)  # +-50% of 4
    assert inside(closed, res.value_ci95), (closed, res.value, res.value_ci95)
    assert res.achieved.value >= 40
    assert res.achieved.low <= mean_customers(res.value) <= res.achieved.high
    # the lever's interval is the mean's standard error mapped through mu:
    # sd sqrt(40)/sqrt(N) customers = 0.163 -> +-0.037 meetings; allow 2x
    width = res.value_ci95[1] - res.value_ci95[0]
    se = math.sqrt(40 / N) / (mean_customers(1.0))
    assert 0.5 * 2 * 1.96 * se < width < 2 * 2 * 1.96 * se, (width, se)


def test_mm_inf_probability_of_k_customers():
    cfg = config_from_dict(mm_inf())
    k = 45  # threshold $45,000 at $1000 per customer

    def p_at_least_k(lam):
        return stats.poisson.sf(k - 1, mean_customers(lam))

    closed = optimize.brentq(lambda lam: p_at_least_k(lam) - 0.8, 1, 20)  # 5.855
    res = goal_seek(cfg, "sales.rep_meetings_per_month", "p_mrr_above_60 >= 80%", range=(3, 8))
    assert inside(closed, res.value_ci95), (closed, res.value, res.value_ci95)
    assert res.achieved.value >= 0.8
    assert res.achieved.low <= p_at_least_k(res.value) <= res.achieved.high


def test_pure_birth_first_passage():
    # No churn: customers only rise, so P(first passage by H) = P(N_H >= k).
    cfg = config_from_dict(mm_inf(churn__annual_rate=0.0, simulation__months=24))
    k = 45

    def p_break(lam):
        return stats.poisson.sf(k - 1, lam * P_SIGN * 24)

    closed = optimize.brentq(lambda lam: p_break(lam) - 0.5, 1, 20)  # 3.72
    res = goal_seek(cfg, "sales.rep_meetings_per_month", "p_break_by_24>=0.5")
    assert res.direction == "increasing"
    assert inside(closed, res.value_ci95), (closed, res.value, res.value_ci95)
    assert res.achieved.low <= p_break(res.value) <= res.achieved.high


def test_decreasing_lever_gives_the_largest_value():
    # More churn, fewer customers: the largest annual churn rate that keeps 40 customers.
    cfg = config_from_dict(mm_inf(sales__rep_meetings_per_month=5.0))

    def mean_at(rate):
        return mean_customers(5.0, 1 - (1 - rate) ** (1 / 12))

    closed = optimize.brentq(lambda r: mean_at(r) - 40, 0.05, 0.95)  # 0.531
    res = goal_seek(cfg, "churn.annual_rate", "customers_mean_60 >= 40", range=(0.3, 0.8))
    assert res.direction == "decreasing"
    assert inside(closed, res.value_ci95), (closed, res.value, res.value_ci95)
    assert res.achieved.value >= 40
    # the value is the boundary: a little more churn misses the target
    step = [e for e in res.evaluations if e.value > res.value]
    assert step and not min(step, key=lambda e: e.value).met


def test_at_most_target():
    # <= of an increasing outcome: the largest meeting rate that keeps the mean <= 40.
    cfg = config_from_dict(mm_inf())
    closed = 40 * HAZARD / (P_SIGN * (1 - (1 - HAZARD) ** H))
    res = goal_seek(cfg, "sales.rep_meetings_per_month", "customers_mean_60 <= 40")
    assert res.achieved.value <= 40
    assert inside(closed, res.value_ci95), (closed, res.value_ci95)


def test_integer_lever():
    # Each rep brings 8 meetings a month: 62.4 customers on average at month 36, so
    # a mean of 100 needs 2 reps (1 gives 62, 2 give 125)
    cfg = config_from_dict(mm_inf(sales__rep_meetings_per_month=8.0, simulation__months=36))
    res = goal_seek(cfg, "sales.reps", "customers_mean_36 >= 100", range=(0, 5), n_paths=300)
    assert res.value == int(res.value)
    by_value = {e.value: e for e in res.evaluations}
    assert by_value[res.value].met and not by_value[res.value - 1].met
    closed = math.ceil(100 / (8 * mean_customers(1.0, t=36)))  # smallest reps with mean >= 100
    assert res.value == closed
    assert set(res.to_dict()["evaluations"][0]) == {"value", "estimate", "ci95", "met"}
    assert isinstance(res.to_dict()["value"], int)


def test_unreachable_names_both_ends():
    cfg = config_from_dict(mm_inf())
    with pytest.raises(GoalUnreachable) as info:
        goal_seek(cfg, "sales.rep_meetings_per_month", "customers_mean_60 >= 500", n_paths=200,
                  range=(2, 6))
    text = str(info.value)
    assert "not reached" in text and "[2, 6]" in text
    assert " at 2 and " in text and " at 6 " in text and "above 6" in text
    assert len(info.value.evaluations) == 2


def test_met_over_the_whole_range():
    cfg = config_from_dict(mm_inf())
    res = goal_seek(cfg, "sales.rep_meetings_per_month", "customers_mean_60 >= 5", n_paths=200)
    assert res.at_range_end and res.value == 2.0
    assert res.value_ci95[0] is None
    assert "met over the whole range" in res.format_summary()


def test_common_random_numbers_make_it_deterministic():
    cfg = config_from_dict(mm_inf())
    a = goal_seek(cfg, "sales.rep_meetings_per_month", "p_mrr_above_60>=0.5", n_paths=300, seed=3)
    b = goal_seek(cfg, "sales.rep_meetings_per_month", "p_mrr_above_60>=0.5", n_paths=300, seed=3)
    assert a.to_dict() == b.to_dict()
    c = goal_seek(cfg, "sales.rep_meetings_per_month", "p_mrr_above_60>=0.5", n_paths=300, seed=4)
    assert c.to_dict()["evaluations"] != a.to_dict()["evaluations"]


def test_distribution_lever_is_replaced_and_noted():
    cfg = config_from_dict(mm_inf(sales__rep_meetings_per_month={"dist": "uniform", "low": 3,
                                                             "high": 7}))
    assert default_range(cfg, "sales.rep_meetings_per_month") == (3.0, 7.0)
    res = goal_seek(cfg, "sales.rep_meetings_per_month", "customers_mean_60>=40", n_paths=200)
    assert res.replaces == "uniform(low=3, high=7)"
    assert res.to_dict()["replaces"] == "uniform(low=3, high=7)"


def test_result_api():
    import pandas as pd  # in the test extra: .to_frame() must work there
    from matplotlib.figure import Figure

    cfg = config_from_dict(mm_inf())
    res = goal_seek(cfg, "sales.rep_meetings_per_month", "customers_mean_60 >= 40", n_paths=200)
    data = res.to_dict()
    assert {"parameter", "value", "achieved", "ci95", "evaluations"} <= set(data)
    assert data["parameter"] == "sales.rep_meetings_per_month"
    assert data["ci95"][0] <= data["achieved"] <= data["ci95"][1]
    assert len(data["evaluations"]) == len(res.evaluations)
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(res.evaluations)
    assert list(frame.columns) == ["value", "estimate", "low", "high", "met"]
    assert isinstance(res.plot(), Figure)
    assert res.to_json().startswith("{")


# -- targets, ranges, levers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quantity", "op", "value", "month"),
    [
        ("p_break_by_36>=0.8", "p_break_by_36", ">=", 0.8, 36),
        ("  p_break_by_36  >=  80% ", "p_break_by_36", ">=", 0.8, 36),
        ("p_break_by_horizon \u2265 0.5", "p_break_by_60", ">=", 0.5, 60),
        ("p_mrr_above_12<=0.1", "p_mrr_above_12", "<=", 0.1, 12),
        ("mrr_p50_36>=100000", "mrr_p50_36", ">=", 100000.0, 36),
        ("mrr_managed_p5_60 >= 1e5", "mrr_managed_p5_60", ">=", 1e5, 60),
        ("customers_mean_60 =< 40", "customers_mean_60", "<=", 40.0, 60),
    ],
)
def test_parse_target(text, quantity, op, value, month):
    t = parse_target(text, months=60)
    assert (t.quantity, t.op, t.value, t.month) == (quantity, op, value, month)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("p_break_by_36>0.8", ['bad comparison ">"', ">= or <="]),
        ("p_break_by_36 >= 1.5", ['"1.5"', "0 <= value <= 1"]),
        ("p_break_by_72 >= 0.5", ["month 72", "beyond the horizon", "0..60"]),
        ("p_break_by_x >= 0.5", ['bad month "x"']),
        ("revenue_mean_12 >= 5", ['unknown metric "revenue"', "mrr, mrr_managed"]),
        ("mrr_median_12 >= 5", ['bad quantity "mrr_median_12"', "p_break_by_<month>"]),
        ("mrr_p50_12 >= lots", ['bad value "lots"', "a number"]),
        ("p_break_by_36", ["bad target", "p_break_by_<month>"]),
    ],
)
def test_bad_targets(text, words):
    with pytest.raises(ConfigError) as info:
        parse_target(text, months=60)
    message = str(info.value)
    assert message.startswith("target: ")  # the CLI: --target
    for w in words:
        assert w in message, (w, message)


def test_default_ranges():
    cfg = config_from_dict(mm_inf(sales__reps=0))
    assert default_range(cfg, "churn.annual_rate") == (0.25, 0.75)
    assert default_range(cfg, "sales.reps") == (0.0, 200.0)  # 0: the allowed range
    # 0 takes the allowed range (every key is bounded since model v2)
    spec = param_specs()["start.legacy_product_revenue"]
    assert default_range(cfg, "start.legacy_product_revenue") == (spec.ge, spec.le)
    hi = default_range(config_from_dict(mm_inf(churn__annual_rate=0.8)), "churn.annual_rate")[1]
    assert 0.999 < hi < 1  # clipped inside the open bound value < 1


def test_bad_ranges_and_levers():
    with pytest.raises(ConfigError, match=r"range: churn.annual_rate: out of range: got "
                                          r"0.5:1.5; allowed: 0 <= value < 1"):
        parse_range("0.5:1.5", "churn.annual_rate")
    with pytest.raises(ConfigError, match="bad range: got \"5\"; allowed: LO:HI"):
        parse_range("5", "sales.rep_meetings_per_month")
    with pytest.raises(ConfigError, match="finite LO < HI"):
        parse_range("6:2", "sales.rep_meetings_per_month")
    with pytest.raises(ConfigError, match="fewer than two integers"):
        parse_range("1.2:1.8", "sales.reps")
    cfg = config_from_dict(mm_inf())
    for key, words in [("sales.rep_meeting_per_month", "did you mean sales.rep_meetings_per_month"),
                       ("simulation.months", "a run setting"),
                       ("alignment.enabled", "msp-sim compare"),
                       ("customers.seats", "per-customer")]:
        with pytest.raises(ConfigError, match=words):
            goal_seek(cfg, key, "customers_mean_60>=1", n_paths=10)
