"""Model v3 (issue 23, docs/model.md): what the shipped configs must show.

Each test simulates shipped configs with a fixed seed; tolerances are stated.
Figures measured when written (600-2,000 paths) are in the docstrings.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

import simulator
from simulator.config import load_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SEED = 7
Z = 3.0
SHIPPED = sorted(p.stem for p in CONFIGS.glob("*.toml")
                 if "[[scenario]]" not in p.read_text(encoding="utf-8"))


@functools.cache
def _run(name: str, overrides: str, n_paths: int):
    cfg = load_config(CONFIGS / f"{name}.toml").model_copy(deep=True)
    for key, value in json.loads(overrides).items():
        section, field = key.split(".")
        setattr(getattr(cfg, section), field, value)
    return simulator.simulate(cfg, n_paths=n_paths, seed=SEED)


def run(name: str, overrides: dict | None = None, n_paths: int = 1000):
    return _run(name, json.dumps(overrides or {}, sort_keys=True), n_paths)


def pooled_year(result, year: int) -> tuple[float, float]:
    """Pooled pretax margin and managed share (managed + cloud) of revenue, year ``year``."""
    sl = slice(12 * (year - 1) + 1, 12 * year + 1)
    lines = {k: result[f"revenue_{k}"][:, sl].sum() for k in
             ("products", "projects", "managed", "cloud")}
    revenue = sum(lines.values())
    return (result["pretax_profit"][:, sl].sum() / revenue,
            (lines["managed"] + lines["cloud"]) / revenue)


def test_summary_reports_gross_margin_by_line():
    """Baseline, year 5: managed-services gross margin in 40-65% (Service Leadership 2024:
    46%; measured 42.5%), projects reported (measured ~28%, Service Leadership 19-25%)."""
    at = run("baseline", n_paths=2000).summary()["at_horizon"]
    assert 0.40 <= at["managed_gross_margin_last_12_months"] <= 0.65
    assert 0.10 <= at["projects_gross_margin_last_12_months"] <= 0.35
    assert 0.0 <= at["p_above_threshold"] <= 1.0


def test_standardized_technicians_carry_more_endpoints():
    """Year 5: a standardized shop's technicians, project work included, carry >= 250
    endpoints each (measured 256, 538 per service FTE with the standard stack charged; 255, 536
    without; issue 24's drawn population gave 186 before
    aligned endpoints' scripted maintenance and onboarding onto the standard stack), the
    reactive baseline's far fewer."""
    std = run("standardized", n_paths=2000).summary()["at_horizon"]
    base = run("baseline", n_paths=2000).summary()["at_horizon"]
    assert std["endpoints_per_tech"] >= 250
    assert std["endpoints_per_service_tech"] >= 250
    assert std["endpoints_per_tech"] > 1.5 * base["endpoints_per_tech"]




@pytest.mark.xfail(strict=True, reason=(
    "issue 23 target not met, and wrong for a reactive shop (docs/calibration.md, Model v3, "
    "standard stack section): year 5 the baseline asks 0.78 reactive ticket hours an "
    "endpoint a month (seed 004's 0.75-1.0 tickets at an hour; MainSpring: a reactive "
    "model's industry average is 2 tickets at an hour), 0.20 of maintenance and 0.25 of "
    "projects, 1.14 after the owner's share, so a technician at the 85% hiring threshold "
    "carries ~104; 150 needs <= 0.79 hours all in. Measured 106 (135 per service FTE; "
    "2,000 paths, seed 7, main 2133e42)"))
def test_baseline_technicians_carry_150_endpoints():
    """Year 5, baseline: at least 150 endpoints per technician."""
    at = run("baseline", n_paths=2000).summary()["at_horizon"]
    assert at["endpoints_per_tech"] >= 150


NOT_GROWING = pytest.mark.xfail(strict=True, reason=(
    "full_solution does not grow (revenue flat over five years): its managed share rises "
    "44% -> 52% only because the legacy lines shrink, and its pooled margin goes 12.0% -> "
    "11.7% (500 paths, seed 7, main 2133e42): gross profit +1.9 pp of revenue (managed "
    "+3.3, projects at a 41% gross margin -1.3), eaten by the service manager its growing "
    "paths hire at 8 technicians (-1.9 pp; without one 12.3% -> 13.3%) and per-head and "
    "per-client overhead (-1.0 pp). Decomposition and what would change it in "
    "docs/calibration.md (Margin rising with the managed share, full_solution)"))


@pytest.mark.parametrize("name", [pytest.param(n, marks=NOT_GROWING)
                                  if n == "full_solution" else n for n in SHIPPED])
def test_margin_rises_with_the_managed_share(name):
    """Within a config whose managed share rises by 5 points or more from year 1 to year
    5, the pooled pretax margin rises too (seed 002)."""
    res = run(name, n_paths=500)
    m1, s1 = pooled_year(res, 1)
    m5, s5 = pooled_year(res, 5)
    if s5 - s1 >= 0.05:
        assert m5 > m1, (s1, s5, m1, m5)


def test_owner_escalations_move_to_the_team():
    """sales_engine, year 5 (about 20 technicians and a lead): the owner spends <= 40
    hours a month on escalations (measured ~37)."""
    res = run("sales_engine", n_paths=2000)
    hours = res["owner_escalation_hours"][:, 49:61].mean()
    assert hours <= 40, hours


def test_standardization_works_through_tickets():
    """With aligned tickets as frequent and as long as reactive ones the program gives no
    free lift: baseline P(break) does not rise by 10 points or more (measured 45% -> 40%
    at the point values; 44% -> 32% with the assumptions drawn, issue 24: the program's
    staff cost, convex in clients per staff member, weighs more on average)."""
    same = {"tickets.per_endpoint_reactive": 0.875, "tickets.per_endpoint_aligned": 0.875,
            "tickets.hours_aligned": 1.0, "tickets.proactive_hours_per_endpoint": 0.2,
            "tickets.proactive_hours_aligned": 0.2}
    off = run("baseline", same).p_break_by(60).value
    on = run("baseline", {**same, "alignment.enabled": True}).p_break_by(60).value
    assert on - off < 0.10, (off, on)


def test_chronic_understaffing_loses_money_in_sales_engine():
    """sales_engine: hiring only at 120% utilization earns less over 60 months than the
    shipped hiring policy, common random numbers (measured -$1.11M, SE $36k; -$0.91M
    before maintenance debt)."""
    a = run("sales_engine", n_paths=600)
    b = run("sales_engine", {"staff.hire_above": 1.2}, n_paths=600)
    d = b["pretax_profit"][:, 1:61].sum(axis=1) - a["pretax_profit"][:, 1:61].sum(axis=1)
    assert d.mean() + Z * d.std(ddof=1) / np.sqrt(d.size) < 0


def test_chronic_understaffing_loses_money_in_the_baseline():
    """baseline: hiring only at 120% utilization earns less over 60 months than the
    shipped hiring policy, common random numbers (measured -$73k, SE $17k; +$51k before
    maintenance debt: the maintenance an overloaded team skips raises its tickets,
    docs/model.md steps 2-3)."""
    a = run("baseline", {"simulation.months": 96}, n_paths=600)
    b = run("baseline", {"simulation.months": 96, "staff.hire_above": 1.2}, n_paths=600)
    d = b["pretax_profit"][:, 1:61].sum(axis=1) - a["pretax_profit"][:, 1:61].sum(axis=1)
    assert d.mean() + Z * d.std(ddof=1) / np.sqrt(d.size) < 0


def test_chronic_understaffing_loses_money_in_the_baseline_by_month_96():
    """baseline over 96 months (the same runs): the understaffed firm's head start is spent
    (measured with maintenance debt: +$48k at 36 months, +$3k at 48, -$73k at 60, -$176k at
    72, -$298k at 84, -$445k at 96, SE $41k; before it +$51k at 60 and -$212k at 96), it
    ends with less MRR (median $64k against $91k at month 60) and its clients leave more."""
    a = run("baseline", {"simulation.months": 96}, n_paths=600)
    b = run("baseline", {"simulation.months": 96, "staff.hire_above": 1.2}, n_paths=600)
    d = b["pretax_profit"][:, 1:97].sum(axis=1) - a["pretax_profit"][:, 1:97].sum(axis=1)
    assert d.mean() + Z * d.std(ddof=1) / np.sqrt(d.size) < 0
    assert np.median(b["mrr"][:, 60]) < 0.8 * np.median(a["mrr"][:, 60])
    assert b["churned"][:, 1:97].sum() / b["customers"][:, :96].sum() > (
        a["churned"][:, 1:97].sum() / a["customers"][:, :96].sum())


def test_few_startups_reach_a_million():
    """startup: at most a third of paths pass $1M trailing-12-month revenue by month 60
    (public surveys: 76-79% of MSPs never do; measured 30%)."""
    res = run("startup", n_paths=2000)
    revenue = sum(res[f"revenue_{k}"] for k in ("products", "projects", "managed", "cloud"))
    trailing = np.stack([revenue[:, t - 11:t + 1].sum(axis=1) for t in range(12, 61)], axis=1)
    share = float(np.mean((trailing >= 1e6).any(axis=1)))
    assert share <= 1 / 3, share


def test_price_rise_reaches_the_book_at_renewal():
    """A 10% rise: new clients pay it at once, today's book only from its renewal; with
    no response nobody leaves over it."""
    over = {"customers.price_rise": 0.10, "customers.price_escalator": 0.0,
            "customers.renewal_concession": 0.0, "churn.price_rise_response": 0.0,
            "churn.annual_rate": 0.0, "sales.meetings_per_selling_hour": 0.0,
            "customers.contract_months": 36}
    res = run("baseline", over, n_paths=100)
    base = run("baseline", {k: v for k, v in over.items() if k != "customers.price_rise"},
               n_paths=100)
    alive = (res.insolvency_month < 0) & (base.insolvency_month < 0)
    assert alive.sum() >= 60  # (issue 24: some drawn businesses run out of cash)
    ratio = res["mrr_managed"][alive] / base["mrr_managed"][alive]
    assert np.allclose(ratio[:, 0], 1.0)
    assert np.all(ratio[:, 1:] >= 1.0 - 1e-12) and np.allclose(ratio[:, 37:], 1.10)
    assert np.all(res["churned"][alive] == base["churned"][alive])


@pytest.mark.parametrize("key, bad, allowed", [
    ("customers.price_rise", "2", "-0.5 <= value <= 1"),
    ("customers.renewal_concession", "1.5", "0 <= value <= 1"),
    ("churn.price_rise_response", "-1", "0 <= value <= 10"),
    ("churn.strain_weight", "6", "0 <= value <= 5"),
    ("sales.referral_share", "1.5", "0 <= value <= 1"),
    ("sales.price_close_response", "11", "0 <= value <= 10"),
    ("tickets.tiered_desk_saving", "1", "0 <= value < 1"),
    ("staff.escalation_share_aligned", "2", "0 <= value <= 1"),
    ("staff.escalation_lead_techs", "0", "1 <= value <= 1000"),
    ("staff.owner_escalation_share_led", "-0.1", "0 <= value <= 1"),
    ("staff.overtime_fatigue", "11", "0 <= value <= 10"),
    ("tickets.proactive_hours_aligned", "-0.1", "0 <= value <= 100"),
    ("alignment.onboarding_score", "1.5", "0 <= value <= 1"),
    ("finance.standard_stack_cost_per_endpoint", "-5", "0 <= value <= 10000"),
    ("tickets.maintenance_debt_months", "0.5", "1 <= value <= 120"),
    ("tickets.neglect_ticket_uplift", "-0.1", "0 <= value <= 10"),
    ("start.maintenance_debt", "1.5", "0 <= value <= 1"),
])
def test_new_keys_are_checked_with_their_range(key, bad, allowed, capsys):
    """One line naming the file, the key, the value and what is allowed; exit 2."""
    from simulator.cli import main

    assert main(["validate", str(CONFIGS / "baseline.toml"), "--set", f"{key}={bad}"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert "baseline.toml" in err[0] and f"{key} = {bad}" in err[0] and allowed in err[0]
