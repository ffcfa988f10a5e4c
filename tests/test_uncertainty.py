"""Two kinds of uncertainty (issue 24): what isn't measured vs luck, in every answer.

Every assumption is uncertain by default (drawn per path over its plausible range);
a value the user's config or ``msp-sim fit`` sets is never redrawn, neither by the run,
nor by the uncertainty split, nor by ``--all-assumptions``. The split's estimator is
checked against a generator whose business-level chances are known.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from simulator.analysis.uncertainty import (
    HEADLINES,
    _Features,
    _Headline,
    _median,
    _split_one,
    uncertainty_split,
)
from simulator.api import simulate
from simulator.config import load_config
from simulator.config.loader import config_from_dict
from simulator.config.schema import param_specs
from simulator.config.sources import how_to_measure
from simulator.config.starter import assumptions_uncertain, set_keys
from simulator.model.sampling import field_name

OWNER_TIME = {"staff.escalation_share", "staff.owner_hours_per_month",
              "staff.escalation_lead_techs", "customers.account_hours_per_month",
              "staff.management_hours_per_employee", "staff.owner_sales_hours_per_month",
              "staff.owner_escalation_share_led"}


@pytest.fixture(scope="module")
def baseline_run(baseline_path):
    config = load_config(baseline_path, overrides={"simulation.paths": 2000})
    return simulate(config, progress=False)


@pytest.fixture(scope="module")
def baseline_split(baseline_run):
    return uncertainty_split(baseline_run)


def test_every_assumption_has_a_range_and_is_uncertain_by_default():
    defaults = config_from_dict({})
    for key, spec in param_specs(per_unit=False).items():
        if spec.plausible is None:
            continue
        value = defaults.get(key)
        assert not isinstance(value, int | float), f"{key} is fixed by default"
        lo, hi = value.support()
        assert spec.plausible[0] <= lo and hi <= spec.plausible[1] + 1e-9, key
        if spec.point is not None and spec.point not in spec.plausible:
            # the sourced value stays the mean: the calibration holds on average
            assert float(value.mean()) == pytest.approx(spec.point, rel=1e-5)
    assert param_specs()["tickets.hours_reactive"].plausible == (0.75, 1.25)
    # the user's business today and the user's decisions are never assumptions
    for key in ("start.cash", "sales.reps", "customers.price_rise", "finance.credit_limit"):
        assert param_specs()[key].plausible is None


def test_baseline_split_has_both_intervals_and_names_what_to_measure(baseline_split):
    data = baseline_split.to_dict()
    assert "tickets.hours_reactive" in data["uncertain_assumptions"]
    head = data["headlines"]["p_break_by_horizon"]
    (mc_lo, mc_hi), (lo, hi) = head["mc_interval"], head["plausible_range"]
    assert mc_lo <= head["value"] <= mc_hi and lo <= head["value"] <= hi
    # what we don't know about the business dwarfs the paths' luck
    assert hi - lo > 10 * (mc_hi - mc_lo)
    assert hi - lo > 0.4
    top = head["top_assumptions"]
    assert len(top) == 3 and all(t["how_to_measure"] for t in top)
    assert OWNER_TIME & {t["name"] for t in top}, top
    for t in top:  # each moves the answer by more than the luck interval
        assert abs(t["effect"]) > mc_hi - mc_lo
    for name in HEADLINES:  # the run kept its paths: every headline is split
        assert data["headlines"][name]["plausible_range"] is not None, name
    line = baseline_split.lines()[0]
    assert "depending on what you haven't measured; mainly" in line


def test_split_recovers_known_business_level_chances():
    """Paths of businesses whose chance is sigmoid(1.5 x0 - 0.8 x1), x2 irrelevant: the
    range of the fitted chances is the true range, x0 the strongest input."""
    rng = np.random.default_rng(7)
    n = 6000
    draws = rng.uniform(-1.7, 1.7, size=(n, 3))
    truth = special.expit(-0.3 + 1.5 * draws[:, 0] - 0.8 * draws[:, 1])
    y = (rng.random(n) < truth).astype(float)
    keys = ["staff.escalation_share", "tickets.hours_reactive", "churn.annual_rate"]
    head = _Headline("chance", "probability", lambda r: None)
    split = _split_one("p", head, y, draws, keys, "chance")
    lo, hi = split.plausible_range
    true_lo, true_hi = np.quantile(truth, (0.1, 0.9))
    assert abs(lo - true_lo) < 0.04 and abs(hi - true_hi) < 0.04
    assert [e.key for e in split.top[:2]] == keys[:2]
    assert split.top[0].swing > 0 > split.top[1].swing
    # a noise-only input barely moves it
    assert abs(split.top[2].swing) < 0.05


def test_user_set_values_are_never_redrawn(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("[simulation]\nmonths = 12\npaths = 400\n[start]\ncustomers = 10\n"
                    "techs = 3\n[tickets]\nhours_reactive = 1.1\n[staff]\n"
                    'escalation_share = { dist = "uniform", low = 0.12, high = 0.14 }\n')
    config = load_config(path, overrides=["staff.owner_hours_per_month=180"])
    assert {"tickets.hours_reactive", "staff.escalation_share",
            "staff.owner_hours_per_month"} <= set_keys(config)
    result = simulate(config, progress=False)
    assert np.all(result.params[field_name("tickets.hours_reactive")] == 1.1)
    assert np.all(result.params[field_name("staff.owner_hours_per_month")] == 180)
    split = uncertainty_split(result, ["p_insolvent_by_horizon"])
    assert "tickets.hours_reactive" not in split.assumptions
    assert "staff.owner_hours_per_month" not in split.assumptions
    assert "staff.escalation_share" in split.assumptions  # the user's own range
    assert "customers.endpoints_per_seat" in split.assumptions  # left to its default
    widened, changed = assumptions_uncertain(config)
    assert widened.get("tickets.hours_reactive") == 1.1
    assert widened.get("staff.owner_hours_per_month") == 180
    assert widened.staff.escalation_share == config.staff.escalation_share
    assert not {"tickets.hours_reactive", "staff.escalation_share",
                "staff.owner_hours_per_month"} & set(changed)
    lo, hi = param_specs()["customers.endpoints_per_seat"].plausible
    assert "customers.endpoints_per_seat" in changed
    assert widened.customers.endpoints_per_seat.support() == (lo, hi)


def test_fitted_values_are_never_redrawn(tmp_path):
    from simulator.fit import config_text, fit_files
    from simulator.fit.synthetic import history, write_csv

    data = write_csv(history(np.random.default_rng(2026), months=12), tmp_path)
    fit = fit_files(clients=data["clients"], tickets=data["tickets"], calibrate=False)
    path = tmp_path / "fitted.toml"
    path.write_text(config_text(fit), encoding="utf-8")
    config = load_config(path, overrides={"simulation.paths": 300, "simulation.months": 6})
    fitted = {f.key: f for f in fit.fitted if f.key in param_specs(per_unit=False)}
    assert fitted and set(fitted) <= set_keys(config)
    widened, changed = assumptions_uncertain(config)
    assert not set(fitted) & set(changed)
    for key in fitted:
        assert widened.get(key) == config.get(key), key
    result = simulate(config, progress=False)
    split = uncertainty_split(result, ["p_insolvent_by_horizon"])
    for key in fitted:
        column = result.params[field_name(key)]
        if isinstance(config.get(key), int | float):  # a fitted number: never drawn
            assert np.all(column == config.get(key)) and key not in split.assumptions
        else:  # a fitted posterior: drawn from it, never from the plausible range
            lo, hi = config.get(key).support()
            assert np.all((column >= lo) & (column <= hi))


def test_how_to_measure_covers_every_assumption():
    for key, spec in param_specs().items():
        if spec.plausible is not None:
            assert how_to_measure(key), key
    assert "timesheet" in how_to_measure("staff.owner_hours_per_month")


def test_sensitivity_ranks_cash_questions_too(baseline_path):
    """Sensitivity has insolvency, cash and cumulative profit outcomes (issue 24)."""
    from simulator.analysis.sensitivity import OUTCOMES, sensitivity

    assert {"p_insolvent_by_horizon", "cash_final_median",
            "cumulative_profit_mean"} <= set(OUTCOMES)
    config = load_config(baseline_path, overrides={"simulation.months": 24})
    keys = ["customers.price_per_seat", "tickets.hours_reactive"]
    result = sensitivity(config, n_base=8, paths_per_point=4, tornado_paths=200,
                         parameters=keys, n_resamples=20)
    data = result.to_dict()
    blocks = {b["outcome"]: b for b in data["outcomes"]}
    assert set(OUTCOMES) == set(blocks)
    cash, profit = (result.outcomes.index(o) for o in ("cash_final_median",
                                                       "cumulative_profit_mean"))
    price = result.parameters.index("customers.price_per_seat")
    # a higher price leaves more cash and profit, other draws equal (common random numbers)
    assert result.tornado_high[cash, price] > result.tornado_low[cash, price]
    assert result.tornado_high[profit, price] > result.tornado_low[profit, price]
    assert result.format_outcome("cash_final_median", 1234.0) == "$1,234"
    assert "out of cash" in result.outcome_label("p_insolvent_by_horizon")


def test_the_reports_first_screen_gives_both(baseline_run, baseline_split):
    """(summary.json's block: tests/test_output.py; figures left out here, they cost
    seconds and say nothing of it)"""
    from simulator.report.run.page import render_run

    summary = {**baseline_run.summary(), "uncertainty": baseline_split.to_dict()}
    head = summary["uncertainty"]["headlines"]["p_break_by_horizon"]
    page = render_run(baseline_run, figures=[], summary=summary)
    first = page[page.index('id="headline"'):page.index("</section>")]
    assert 'id="advice"' in first and "What to measure next" in first
    assert "haven&#39;t measured: between" in first
    label = head["top_assumptions"][0]["label"]
    assert label[0].upper() + label[1:] in first
    # the glossary explains the new words
    assert "what you haven&#39;t measured" in page and "assumption" in page


def test_the_first_screen_shows_what_the_lever_scan_states():
    """The advice names the scan's first lever and shows whatever cost, risk, break-even
    and chance to pay off its entry gives (the lever scan's own fields, issue 24 item 2)."""
    from simulator.report.run.advice import advice

    summary = {"months": 60, "threshold_mrr": 100_000.0, "p_break_by_horizon": 0.4,
               "p_break_by_horizon_ci95": [0.39, 0.41], "levers": {
                   "months": 60, "as_is": {"p_break_by": {"60": {"value": 0.4}}},
                   "levers": [{"name": "a salesperson", "p_break_by": {"60": {"value": 0.7}},
                               "difference": {"cumulative_profit_mean": {"value": -5e4}},
                               "cost": "$7,000 a month", "risk": {"text": "half wash out"},
                               "break_even": "at least 3.1 meetings a month",
                               "p_pays_off": 0.62}]}}
    screen = advice(summary)
    assert screen["lever"]["name"] == "a salesperson"
    assert "40% to 70%" in screen["lever"]["effect"]
    assert screen["lever"]["facts"] == [
        ("Cost", "$7,000 a month"), ("Risk", "half wash out"),
        ("Break-even", "at least 3.1 meetings a month"), ("Chance it pays off", "62%")]
    assert screen["answer"].startswith("40% chance to break $100k MRR within 60 months")


@pytest.mark.parametrize("order", ["C", "F"])
def test_moved_product_is_the_rebuilt_matrix_bit_for_bit(order):
    """An input set to one value on every row: rebuilding only its columns gives the
    product of the whole rebuilt matrix, the same bits, and leaves the matrix as it was."""
    rng = np.random.default_rng(7)
    x = np.asarray(rng.standard_normal((3001, 12)), order=order)
    feats = _Features(x, np.array([5, 2, 9, 0]))
    f = feats(x)
    rows = np.ascontiguousarray(f)
    before = rows.copy()
    beta = rng.standard_normal(f.shape[1])
    for j in (5, 2, 9, 0):
        for z in (-1.6448536269514722, 0.3, 2.1):
            moved = x.copy()
            moved[:, j] = z
            expected = feats(moved) @ beta
            got = feats.moved_product(rows, x, j, np.float64(z), beta)
            assert np.array_equal(got, expected)
            assert np.array_equal(rows, before)


def test_median_is_numpys_bit_for_bit():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 10, 999, 10_000):
        for values in (rng.standard_normal(n) * 1e5, np.round(rng.standard_normal(n), 1)):
            assert _median(values) == float(np.median(values))
    with_nan = rng.standard_normal(11)
    with_nan[4] = np.nan
    assert np.isnan(_median(with_nan))
