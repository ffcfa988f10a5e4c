"""The lever scan: standard levers, the [levers] section, and compare's numbers bit for bit."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from simulator.analysis import compare
from simulator.analysis.compare import Scenario
from simulator.analysis.levers import Lever, apply_lever, resolve_levers, scaled, shifted
from simulator.analysis.scan import lever_scan
from simulator.cli import main
from simulator.config import ConfigError, config_from_dict

SMALL = {"simulation": {"months": 24, "paths": 300, "seed": 11, "threshold_mrr": 60_000},
         "start": {"customers": 16, "techs": 4}}


def _config(**extra):
    data = {k: dict(v) for k, v in SMALL.items()}
    for section, values in extra.items():
        data[section] = {**data.get(section, {}), **values}
    return config_from_dict(data)


@pytest.fixture(scope="module")
def scan():
    return lever_scan(_config(), n_paths=300)


def test_shift_and_scale_move_numbers_and_distributions():
    cfg = _config(churn={"annual_rate": {"dist": "uniform", "low": 0.08, "high": 0.15}})
    assert shifted(cfg.churn.annual_rate, -0.02) == {"dist": "uniform",
                                                     "low": pytest.approx(0.06),
                                                     "high": pytest.approx(0.13)}
    assert shifted(cfg.churn.annual_rate, -0.1, floor=0.0)["low"] == 0.0
    tri = config_from_dict({}).staff.escalation_share
    half = scaled(tri, 0.5)
    assert half["dist"] == "triangular"
    assert half["mode"] == pytest.approx(0.5 * tri.mode)
    assert shifted(4, 1) == 5 and isinstance(shifted(4, 1), int)
    assert scaled(120.0, 1.1) == pytest.approx(132.0)
    # the moved distribution is a valid config value with the moved mean
    moved = apply_lever(cfg, Lever("x", "", {"churn.annual_rate":
                                             shifted(cfg.churn.annual_rate, -0.02)}))
    assert moved.churn.annual_rate.mean() == pytest.approx(cfg.churn.annual_rate.mean() - 0.02)


def test_standard_levers_follow_the_business():
    names = [lv.name for lv in resolve_levers(_config())]
    assert "a salesperson from month 1" in names and "one more salesperson" not in names
    assert "the standardization program" in names
    with_rep = [lv.name for lv in resolve_levers(_config(sales={"reps": 1}))]
    assert "one more salesperson" in with_rep and "a salesperson from month 6" not in with_rep
    aligned = [lv.name for lv in resolve_levers(_config(alignment={"enabled": True}))]
    assert "the standardization program" not in aligned
    rep = next(lv for lv in resolve_levers(_config()) if lv.name == "a salesperson from month 6")
    assert rep.set == {"sales.reps": 1, "sales.rep_start_month": 6}
    managed = [lv.name for lv in resolve_levers(_config(start={"managers": 1}))]
    assert "a service manager" not in managed and "half the escalations" in managed


def test_outcomes_of_kept_trajectories_are_the_outcomes_only_runs_bits():
    """What the scan keeps of a run is the same from a run that kept its trajectories
    (its columns read here) as from a run of outcomes only (the columns it returns)."""
    from simulator.analysis.scan import SCAN_COLUMNS, _Outcomes
    from simulator.api import simulate
    from simulator.runner import RunOptions, run

    cfg = _config(simulation={"months": 24, "paths": 60})
    kept = _Outcomes.of(simulate(cfg, n_paths=60, seed=4, progress=False, keep_paths=True))
    only = _Outcomes.of(*run(cfg, 60, 4, RunOptions(None, False, outcomes_only=True),
                             columns=SCAN_COLUMNS))
    assert json.dumps(kept.summary, sort_keys=True) == json.dumps(only.summary, sort_keys=True)
    for name in ("broke", "broke_by_month", "insolvent", "cumulative_profit", "mrr_final",
                 "profit_path", "rep_meetings", "rep_kept", "rep_pay"):
        np.testing.assert_array_equal(getattr(kept, name), getattr(only, name), err_msg=name)
    assert kept.managed_margin == only.managed_margin and kept.values.keys() == only.values.keys()
    for name in kept.values:
        np.testing.assert_array_equal(kept.values[name], only.values[name], err_msg=name)
    assert 0 < kept.broke.sum() < 60 and np.ptp(kept.mrr_final) > 0


def test_levers_section_skips_and_adds():
    cfg = _config(levers={"skip": ["+10% price per seat"],
                          "add": [{"name": "two reps", "set": {"sales.reps": 2}}]})
    levers = {lv.name: lv for lv in resolve_levers(cfg)}
    assert "+10% price per seat" not in levers
    assert levers["two reps"].set == {"sales.reps": 2}
    with pytest.raises(ConfigError, match='levers.skip = "no such lever": unknown lever'):
        resolve_levers(_config(levers={"skip": ["no such lever"]}))
    with pytest.raises(ConfigError, match='lever "bad": sales.close_rate'):
        resolve_levers(_config(levers={"add": [{"name": "bad",
                                                "set": {"sales.close_rate": 7}}]}))
    with pytest.raises(ConfigError, match="unknown key"):
        _config(levers={"add": [{"name": "x", "set": {"sales.nope": 1}}]})


def test_scan_differences_equal_compare_bit_for_bit(scan):
    cfg = scan.config
    data = scan.to_dict()
    picked = [e for e in data["levers"] if e["name"] in ("a salesperson from month 1",
                                                          "+10% price per seat")]
    assert len(picked) == 2
    scenarios = [Scenario("as is", cfg)] + [
        Scenario(e["name"], apply_lever(cfg, Lever(e["name"], "", e["set"]))) for e in picked]
    comp = compare(scenarios, n_paths=scan.n_paths, seed=scan.seed, progress=False).to_dict()
    for e, c in zip(picked, comp["scenarios"][1:], strict=True):
        mine, theirs = e["difference"], c["difference_vs_reference"]
        assert mine["p_break_by_horizon"] == theirs["p_break_by_horizon"]
        assert mine["mrr_final_mean"] == theirs["mrr_final_mean"]
        h = str(cfg.simulation.months)
        assert e["p_break_by"][h]["value"] == c["p_break_by"][h]
        assert e["p_break_by"][h]["ci95"] == c["p_break_by_ci95"][h]


def test_scan_is_sorted_by_owner_value_and_reproducible(scan):
    data = scan.to_dict()
    values = [e["difference"]["owner_value_mean"]["value"] for e in data["levers"]]
    assert values == sorted(values, reverse=True)
    gains = [e["difference"]["p_break_by_horizon"]["value"] for e in data["levers"]]
    # a salesperson from month 1 helps this small business: a clear, significant gain
    rep = next(e for e in data["levers"] if e["name"] == "a salesperson from month 1")
    assert rep["difference"]["p_break_by_horizon"]["ci95"][0] > 0
    again = lever_scan(scan.config, n_paths=300).to_dict()
    assert json.dumps(again, sort_keys=True) == json.dumps(data, sort_keys=True)
    assert len(scan.lines(3)) == 3 and " -> " in scan.lines(3)[0]
    frame = scan.to_frame()
    assert list(frame.index) == [e["name"] for e in data["levers"]]
    np.testing.assert_allclose(frame["diff_p_break_by_horizon"], gains)


def test_run_writes_the_levers_and_no_levers_skips(tmp_path, capsys):
    path = tmp_path / "shop.toml"
    path.write_text('[simulation]\nmonths = 12\npaths = 200\nseed = 3\n'
                    '[levers]\nskip = ["a service manager"]\n')
    assert main(["run", str(path), "--out", str(tmp_path / "a"), "--no-progress",
                 "--lever-paths", "100"]) == 0
    out = capsys.readouterr().out
    assert "Levers (same random numbers" in out
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    names = [e["name"] for e in summary["levers"]["levers"]]
    assert "a service manager" not in names and "a salesperson from month 1" in names
    assert summary["levers"]["n_paths"] == 100
    assert all(isinstance(e["set"], dict) and e["set"] for e in summary["levers"]["levers"])
    page = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert "Which lever gets you out" in page and 'id="levers"' in page
    assert main(["run", str(path), "--out", str(tmp_path / "b"), "--no-progress",
                 "--no-levers"]) == 0
    assert "levers" not in json.loads((tmp_path / "b" / "summary.json").read_text())
    assert "Which lever" not in (tmp_path / "b" / "report.html").read_text(encoding="utf-8")


def test_bad_levers_stop_before_simulating(tmp_path, capsys):
    path = tmp_path / "shop.toml"
    path.write_text('[simulation]\nmonths = 12\npaths = 200\n[levers]\nskip = ["nope"]\n')
    assert main(["run", str(path), "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "shop.toml" in err and "levers.skip" in err and "unknown lever" in err
    assert "simulating" not in err and not (tmp_path / "x").exists()


def test_docs_list_every_standard_lever():
    from pathlib import Path

    from simulator.analysis.levers import STANDARD_LEVERS

    text = (Path(__file__).resolve().parents[1] / "docs" / "levers.md").read_text()
    for name, description, _ in STANDARD_LEVERS:
        assert f"| {name} | {description} |" in text, name


def test_levers_take_distributions_everywhere():
    # every key a standard lever reads may be a distribution (its median decides)
    cfg = _config(staff={"techs_per_manager": {"dist": "uniform", "low": 6, "high": 10},
                         "escalation_share": {"dist": "uniform", "low": 0.1, "high": 0.3}},
                  start={"techs": {"dist": "uniform", "low": 3, "high": 6}})
    names = {lv.name: lv for lv in resolve_levers(cfg)}
    assert names["a service manager"].set == {"start.managers": 1,
                                              "staff.escalation_lead_techs": 1}
    assert names["one more technician now"].set["start.techs"]["low"] == 4


# -- each standard lever: what it sets, and its effect where the effect is known ---------

def test_each_standard_lever_sets_its_keys_by_its_size():
    cfg = _config(start={"customers": 16, "techs": 3},
                  churn={"annual_rate": {"dist": "uniform", "low": 0.08, "high": 0.15}},
                  customers={"price_per_seat": {"dist": "uniform", "low": 100, "high": 150},
                             "account_hours_per_month": 1.5},
                  finance={"overhead_per_month": 2_000.0},
                  staff={"escalation_share": {"dist": "triangular", "low": 0.1, "mode": 0.2,
                                              "high": 0.3},
                         "escalation_share_aligned": 0.18,
                         "owner_sales_hours_per_month": 30.0, "techs_per_manager": 8.0})
    got = {lv.name: lv.set for lv in resolve_levers(cfg)}
    approx = pytest.approx
    expected = {
        "one more technician now": {"start.techs": 4},
        "a salesperson from month 1": {"sales.reps": 1, "sales.rep_start_month": 1},
        "a salesperson from month 6": {"sales.reps": 1, "sales.rep_start_month": 6},
        "the standardization program": {"alignment.enabled": True, "alignment.start_month": 1},
        "+10% price per seat": {"customers.price_rise": approx(0.1)},
        "-2 pp annual churn": {"churn.annual_rate": {
            "dist": "uniform", "low": approx(0.06), "high": approx(0.13)},
            "customers.account_hours_per_month": approx(2.5)},
        "a service manager": {"start.managers": 1, "staff.escalation_lead_techs": 1},
        "half the escalations": {"staff.escalation_share": {
            "dist": "triangular", "low": approx(0.05), "mode": approx(0.1),
            "high": approx(0.15)}, "staff.escalation_share_aligned": approx(0.09),
            "start.techs": 4, "finance.overhead_per_month": approx(4_000.0)},
        "10 more selling hours a month": {"staff.owner_sales_hours_per_month": approx(40.0)},
    }
    assert got == expected
    with_rep = {lv.name: lv.set for lv in resolve_levers(_config(sales={"reps": 2}))}
    assert with_rep["one more salesperson"] == {"sales.reps": 3}
    # numbers move as numbers; churn never goes below 0 and is left alone at 2% or less
    low = {lv.name: lv.set for lv in resolve_levers(_config(churn={"annual_rate": 0.03}))}
    assert low["-2 pp annual churn"]["churn.annual_rate"] == approx(0.01)
    assert "-2 pp annual churn" not in {
        lv.name for lv in resolve_levers(_config(churn={"annual_rate": 0.02}))}
    # a decided rise r becomes (1 + r) x 1.1 - 1 = 1.1 r + 0.1, a distribution as a whole
    risen = {lv.name: lv.set for lv in resolve_levers(_config(customers={"price_rise": 0.05}))}
    assert risen["+10% price per seat"] == {"customers.price_rise": approx(0.155)}
    risen = {lv.name: lv.set for lv in resolve_levers(_config(customers={"price_rise": {
        "dist": "uniform", "low": 0.0, "high": 0.1}}))}
    assert risen["+10% price per seat"] == {"customers.price_rise": {
        "dist": "uniform", "low": approx(0.1), "high": approx(0.21)}}


def _effect(lever_name: str, base: dict, n_paths: int = 4, seed: int = 1):
    """(as is, with the lever) runs of a config dict on the same seeds."""
    from simulator.api import simulate

    cfg = config_from_dict(base)
    lever = next(lv for lv in resolve_levers(cfg) if lv.name == lever_name)
    runs = [simulate(c, n_paths=n_paths, seed=seed, progress=False, keep_paths=True)
            for c in (cfg, apply_lever(cfg, lever))]
    return runs


def _book(**sections):
    from test_oracles import BOOK
    from test_reference import merged

    return merged(merged(BOOK, levers={}, sales={"proposal_rate": 0.0}), **sections)


def test_lever_effects_on_staff_and_cost():
    # one more technician: $6,500 more a month, from month 1
    a, b = _effect("one more technician now", _book())
    assert a["techs"][0, 0] == 1 and b["techs"][0, 0] == 2
    np.testing.assert_allclose(a["pretax_profit"][:, 1:], (8800 - 6500) * 0.9, rtol=1e-12)
    np.testing.assert_allclose(b["pretax_profit"][:, 1:], 8800 - 2 * 6500, rtol=1e-12)
    # a salesperson from month 1 / 6: paid from then on ($7,000), ramping over 5 months
    sure_rep = {"proposal_rate": 0.0, "rep_washout_share": 0.0, "rep_productivity": 1.0,
                "rep_ramp_months": 5.0}
    for month in (1, 6):
        a, b = _effect(f"a salesperson from month {month}", _book(sales=sure_rep),
                       n_paths=400)
        t = np.arange(1, 13)
        cost = np.where(t >= month, 7000.0, 0.0)
        np.testing.assert_allclose(b["pretax_profit"][0, 1:],
                                   np.where(cost > 0, 8800 - 6500 - cost, 2070.0), rtol=1e-12)
        ramp = np.clip((t - month + 1) / 5, 0, 1) * 8.0
        assert np.all(b["meetings"][:, 1:month] == 0) and np.all(a["meetings"] == 0)
        for k in (month, month + 2, 12):
            se = np.sqrt(ramp[k - 1] / 400)
            assert abs(b["meetings"][:, k].mean() - ramp[k - 1]) < 4 * se, (month, k)
    # one more salesperson: a second rep's cost
    a, b = _effect("one more salesperson", _book(sales={"reps": 1, **sure_rep}))
    np.testing.assert_allclose(a["pretax_profit"][:, 1:] - b["pretax_profit"][:, 1:], 7000.0,
                               rtol=1e-12)


def test_lever_effects_on_price_hours_and_the_owner():
    """+10% price (docs/model.md steps 5-6, model v3): today's ten $1,000 clients renew
    once in months 1-12 (contract starts spread over the 12 months before month 1); at
    the renewal each leaves with probability 0.5 x 0.1 = 5% (churn.price_rise_response)
    or stays at $1,100. With no churn, tickets or escalator otherwise, a month's managed
    revenue is $1,000 a client not yet renewed plus $1,100 a renewed one, so the renewed
    count k = (revenue - 1,000 x customers) / 100 is a whole number that only grows, is
    10 x t / 12 x 0.95 in expectation and is every client left at month 12."""
    a, b = _effect("+10% price per seat", _book(), n_paths=400, seed=2)
    np.testing.assert_allclose(a["revenue_managed"][:, 1:], 10_000.0, rtol=1e-12)
    customers, revenue = b["customers"][:, 1:], b["revenue_managed"][:, 1:]
    renewed = (revenue - 1000.0 * customers) / 100.0
    np.testing.assert_allclose(renewed, np.rint(renewed), atol=1e-9)
    renewed = np.rint(renewed)
    assert np.all((renewed >= 0) & (renewed <= customers))
    assert np.all(np.diff(renewed, axis=1) >= 0)
    assert np.all(renewed[:, -1] == customers[:, -1])
    np.testing.assert_array_equal(10 - customers, np.cumsum(b["churned"][:, 1:], axis=1))
    for t in (3, 6, 12):
        x = renewed[:, t - 1]
        expected = 10 * t / 12 * 0.95
        assert abs(x.mean() - expected) < 4 * x.std(ddof=1) / np.sqrt(x.size), (t, x.mean())
    left = 10 - customers[:, -1]
    assert abs(left.mean() - 0.5) < 4 * left.std(ddof=1) / np.sqrt(left.size), left.mean()
    # new clients pay the rise from month 1 and close 1.1^-1 as often (price_close_response
    # 1, no referrals lost while nothing fails): 20 meetings a month, every one a deal as is
    sales = _book(start={"customers": 0}, sales={
        "meetings_per_selling_hour": 0.5, "proposal_rate": 1.0, "close_rate": 1.0,
        "cycle_months": 0.0, "price_close_response": 1.0})
    a, b = _effect("+10% price per seat", sales, n_paths=200, seed=3)
    np.testing.assert_allclose(a["revenue_managed"], 100.0 * a["seats"], rtol=1e-12)
    np.testing.assert_allclose(b["revenue_managed"], 110.0 * b["seats"], rtol=1e-12)
    np.testing.assert_array_equal(a["new_customers"], a["meetings"])
    meetings, signed, p = b["meetings"].sum(), b["new_customers"].sum(), 1 / 1.1
    assert abs(signed - p * meetings) < 4 * np.sqrt(meetings * p * (1 - p)), signed / meetings
    a, b = _effect("10 more selling hours a month", _book())
    np.testing.assert_allclose(a["owner_sales_hours"][:, 1:], 40.0)
    np.testing.assert_allclose(b["owner_sales_hours"][:, 1:], 50.0)
    # half the escalations: the same tickets, half the owner's hours on them
    # (both ticket types: a half-aligned book raises tickets that escalate at each share)
    tickets = _book(start={"alignment_score": 0.5},
                    tickets={"per_endpoint_reactive": 1.0, "per_endpoint_aligned": 1.0},
                    staff={"escalation_share": 0.3, "escalation_share_aligned": 0.2,
                           "owner_hours_per_month": 600.0, "hire_above": 10.0})
    a, b = _effect("half the escalations", tickets)
    np.testing.assert_array_equal(a["tickets"][:, 1], b["tickets"][:, 1])
    assert a["owner_escalation_hours"][:, 1].min() > 10
    np.testing.assert_allclose(b["owner_escalation_hours"][:, 1],
                               0.5 * a["owner_escalation_hours"][:, 1], rtol=1e-12)
    # a service manager: one hire now, who takes both technicians off the owner (8 h of
    # management -> 4 h: himself) and the escalations (the owner keeps 10% of them)
    a, b = _effect("a service manager", _book(start={"techs": 2}, staff={
        "management_hours_per_employee": 4.0, "hire_lag_months": 2}))
    assert np.all(a["managers"] == 0) and b["managers"][0].tolist()[:5] == [0, 1, 1, 1, 1]
    np.testing.assert_allclose(a["owner_management_hours"][:, 1:], 8.0)
    np.testing.assert_allclose(b["owner_management_hours"][:, 1:], 4.0)
    # (an all-reactive book: the tiered desk's saving scales every ticket hour alike)
    reactive = _book(tickets={"per_endpoint_reactive": 1.0},
                     staff={"escalation_share": 0.3, "owner_hours_per_month": 600.0,
                            "hire_above": 10.0})
    a, b = _effect("a service manager", reactive)
    np.testing.assert_allclose(b["owner_escalation_hours"][:, 1],
                               0.1 * a["owner_escalation_hours"][:, 1] * (
                                   b["ticket_hours"][:, 1] / a["ticket_hours"][:, 1]),
                               rtol=1e-9)
    # the standardization program: one alignment manager (10 clients, 20 each), hired in
    # month 1, arriving in month 3, raising the book's score by the rate a month
    a, b = _effect("the standardization program", _book(staff={"hire_lag_months": 2}))
    assert np.all(a["alignment_staff"] == 0)
    assert b["alignment_staff"][0].tolist()[:5] == [0, 0, 0, 1, 1]
    np.testing.assert_allclose(b["alignment_mean"][:, 3:6], [[0.15, 0.3, 0.45]] * 4)


def test_lever_effect_on_churn_is_two_points_a_year():
    """1,000 one-seat customers, no sales, a constant hazard (no account care
    discount, no overload): E[customers at month 12] = 1000 (1 - annual rate), 800
    as is and 820 with the lever; the paired difference is +20 within 4 SE."""
    base = _book(start={"customers": 1000}, customers={"seats": 1},
                 churn={"annual_rate": 0.2, "visibility_reduction": 0.0,
                        "overload_sensitivity": 0.0})
    a, b = _effect("-2 pp annual churn", base, n_paths=400, seed=3)
    for run, expected in ((a, 800.0), (b, 820.0)):
        x = run["customers"][:, 12]
        assert abs(x.mean() - expected) < 4 * x.std(ddof=1) / np.sqrt(x.size), x.mean()
    d = b["customers"][:, 12] - a["customers"][:, 12]
    assert abs(d.mean() - 20.0) < 4 * d.std(ddof=1) / np.sqrt(d.size) + 0.5


def test_every_lever_states_its_cost_risk_and_owner_value(scan):
    """Issue 24: a non-zero cost or a stated reason for none; the paired change in the
    owner's value with an interval; P(pays off); a break-even in words."""
    for e in scan.to_dict()["levers"]:
        cost = e["cost"]
        assert cost["risk"] and cost["source"], e["name"]
        assert (cost["dollars_per_month"] > 0 or cost["owner_hours_per_month"] > 0
                or "no spend" in cost["cost"]), e["name"]
        d = e["difference"]["owner_value_mean"]
        assert d["ci95"][0] <= d["value"] <= d["ci95"][1], e["name"]
        assert 0.0 <= e["p_pays_off"]["value"] <= 1.0 and e["break_even"], e["name"]
    assert "owner value" in scan.lines(1)[0] and "pays off on" in scan.lines(1)[0]


def test_a_salesperson_on_the_baseline_is_no_sure_thing():
    """Half the first hires wash out and are let go: on the shipped baseline the rep
    leaves P(break by 60) and P(pays off) well below certainty (issue 24: both < 90%)."""
    from pathlib import Path

    from simulator.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "baseline.toml")
    lever = next(lv for lv in resolve_levers(cfg) if lv.name == "a salesperson from month 1")
    data = lever_scan(cfg, n_paths=400, levers=[lever]).to_dict()
    rep = data["levers"][0]
    assert rep["p_break_by"]["60"]["value"] < 0.9
    assert rep["p_pays_off"]["value"] < 0.9
    assert "meetings a month to pay for themselves" in rep["break_even"]


def test_the_senior_premium_is_the_configs():
    """"half the escalations" pays staff.senior_tech_premium_per_month (default $2,000)."""
    def escalations(**staff):
        cfg = _config(finance={"overhead_per_month": 2_000.0},
                      staff={"tech_cost_per_month": 6_000.0, **staff})
        return next(lv for lv in resolve_levers(cfg) if lv.name == "half the escalations")

    default, dearer = escalations(), escalations(senior_tech_premium_per_month=3_000.0)
    assert default.set["finance.overhead_per_month"] == 4_000.0
    assert dearer.set["finance.overhead_per_month"] == 5_000.0
    assert dearer.cost.dollars_per_month - default.cost.dollars_per_month == 1_000.0
    assert "$3,000/month premium" in dearer.cost.cost


def test_every_standard_levers_stated_cost_by_hand():
    """Issue 30: each standard lever's spend, owner hours, cost, risk and source, from
    the config's numbers by hand (docs/levers.md, "What each lever costs and risks"):
    a distribution counts by its median, the alignment staff are ceil(clients / clients
    per staff), the licences clients x seats x endpoints per seat x the stack's price."""
    from simulator.analysis.levers import STANDARD_LEVERS, lever_cost

    cfg = _config(start={"customers": 23, "techs": 3},
                  staff={"tech_cost_per_month": {"dist": "uniform", "low": 5_000.0,
                                                 "high": 7_000.0},
                         "management_hours_per_employee": 3.5,
                         "manager_cost_per_month": 8_250.0,
                         "senior_tech_premium_per_month": 1_750.0},
                  finance={"overhead_per_employee_month": 700.0,
                           "standard_stack_cost_per_endpoint": 12.0},
                  sales={"rep_cost_per_month": 7_300.0, "rep_washout_share": 0.45,
                         "rep_fire_below": 0.35, "rep_review_months": 4.0,
                         "rep_ramp_months": 6.0, "price_close_response": 1.0},
                  alignment={"staff_cost_per_month": 9_500.0, "clients_per_staff": 10.0,
                             "staff_points_per_month": 3.0, "rate": 0.15},
                  customers={"seats": 20.0, "endpoints_per_seat": 1.5},
                  churn={"price_rise_response": 0.4})
    got = {name: lever_cost(name, cfg) for name, _, _ in STANDARD_LEVERS}
    # tech $6,000 (the uniform's median), overhead $700 per employee, 3.5 owner hours
    tech = got["one more technician now"]
    assert (tech.dollars_per_month, tech.owner_hours_per_month) == (6_700.0, 3.5)
    assert tech.cost == ("$6,000/month pay and $700/month overhead; 3.5 owner hours/month "
                         "of management")
    assert tech.risk == ("idle hours while the work does not grow (the layoff rule lets one "
                         "go after staff.layoff_after_months idle months); quits like any "
                         "technician")
    assert tech.source == "public salary surveys (staff.tech_cost_per_month)"
    for name in ("a salesperson from month 1", "a salesperson from month 6",
                 "one more salesperson"):
        rep = got[name]
        assert (rep.dollars_per_month, rep.owner_hours_per_month) == (8_000.0, 3.5), name
        assert rep.cost == ("$7,300/month pay and $700/month overhead while employed; "
                            "3.5 owner hours/month of management")
        assert rep.risk == ("washes out with probability 45% (books under 35% of plan and is "
                            "let go 4 months after a ramp of 6 months, typically); those who "
                            "stay book a drawn share of plan (sales.rep_productivity)")
        assert rep.source.startswith("50-70% of first sales hires fail; 30-40% of sales ")
        assert "(D. Skok); ramp: Sales Benchmark Index; productivity: assumption " \
               "(0.4-1.2 of plan)" in rep.source
    # 23 clients, one staff per 10: 3 staff at $9,500 + $700; licences 23 x 20 x 1.5 x $12
    program = got["the standardization program"]
    licences = 23 * 20 * 1.5 * 12.0
    assert program.dollars_per_month == pytest.approx(3 * (9_500 + 700) + licences, rel=1e-12)
    assert program.owner_hours_per_month == pytest.approx(3 * 3.5)
    assert program.cost == ("3 alignment staff for 23 clients (one per 10) at $9,500/month "
                            "each, more as the book grows; 3.5 owner hours/month each; the "
                            "standard stack's licences, $8,280/month once today's book is "
                            "aligned (finance.standard_stack_cost_per_endpoint)")
    assert program.risk == ("the speed is the staff's: each adds 3 score points a month, a "
                            "client takes 0.15 a month; a hire the cash cannot pay for waits "
                            "and the clients it would reach drift back; tickets fall months "
                            "later")
    assert program.source == ("TruMethods: one alignment manager per ~20 clients; BLS pay of "
                              "network administrators; rate: assumption (0.08-0.25 a month)")
    # +10%: 0.4 x 10% = 4% leave at the renewal; 1 - 1.1^-1 = 9.09% fewer close
    price = got["+10% price per seat"]
    assert (price.dollars_per_month, price.owner_hours_per_month) == (0.0, 0.0)
    assert price.cost == "no spend: the rise is a letter at each client's renewal"
    assert price.risk == ("about 4% of today's book leaves at the renewal that brings the "
                          "rise (churn.price_rise_response) and 9% fewer prospects close "
                          "(sales.price_close_response)")
    assert price.source == "assumption: responses 0.2-1.0 (churn) and 0.5-2.0 (close rate)"
    steep = lever_cost("+10% price per seat", _config(sales={"price_close_response": 3.0},
                                                       churn={"price_rise_response": 0.95}))
    # 0.95 x 10% = 9.5% -> "10%" (rounded, not 9%); 1 - 1.1^-3 = 24.9% -> "25%"
    assert steep.risk.startswith("about 10% of today's book") and "and 25% fewer" in steep.risk
    # -2 pp churn: 1 owner hour per client and month, 23 clients
    churn = got["-2 pp annual churn"]
    assert (churn.dollars_per_month, churn.owner_hours_per_month) == (0.0, 23.0)
    assert churn.cost == ("no spend: 1 owner hour per client and month of reviews (23 "
                          "hours/month today, more as the book grows), taken from selling "
                          "first")
    assert churn.risk == ("the reviews crowd out selling and escalations when the owner is "
                          "full; the 2 points are an assumption")
    assert churn.source == ("assumption: quarterly business reviews of ~3 hours (0.5-2 hours "
                            "a client-month) buy 1-3 points of churn")
    manager = got["a service manager"]
    assert (manager.dollars_per_month, manager.owner_hours_per_month) == (8_950.0, 3.5)
    assert manager.cost == ("$8,250/month pay and $700/month overhead; 3.5 owner hours/month "
                            "of management (the technicians' management moves to the "
                            "manager)")
    assert manager.risk == ("a fixed cost a small book may not carry (cash risk); the owner "
                            "keeps staff.owner_escalation_share_led of the escalations")
    assert manager.source == ("assumption: a senior technician's pay plus 30% "
                              "(staff.manager_cost_per_month)")
    senior = got["half the escalations"]
    assert (senior.dollars_per_month, senior.owner_hours_per_month) == (8_450.0, 3.5)
    assert senior.cost == ("a senior technician: $6,000/month plus a $1,750/month premium "
                           "and $700/month overhead; 3.5 owner hours/month")
    assert senior.risk == ("the escalations still need doing (by the technicians now); a "
                           "senior hire can quit like any technician")
    assert senior.source == ("assumption: senior premium $1,500-3,000/month; halving: seed "
                             "004 (a tiered desk)")
    hours = got["10 more selling hours a month"]
    assert (hours.dollars_per_month, hours.owner_hours_per_month) == (0.0, 10.0)
    assert hours.cost == ("no spend: 10 owner hours/month, taken only from what is left "
                          "after escalations, management and account care")
    assert hours.risk == "the hours exist only in months the owner has them to spare"
    assert hours.source == "the user's plan"
    assert lever_cost("a lever of the user's", cfg) is None
    assert tech.to_dict() == {"dollars_per_month": 6_700.0, "owner_hours_per_month": 3.5,
                              "cost": tech.cost, "risk": tech.risk, "source": tech.source}


def test_no_client_book_counts_as_one_client_and_the_program_rounds_staff_up():
    """``max(1, clients)`` and ``ceil``: an empty book still needs one alignment staff
    and one client's licences and reviews; 21 clients at 10 per staff need 3."""
    from simulator.analysis.levers import alignment_program_need, lever_cost

    def program(customers):
        return _config(start={"customers": customers},
                       alignment={"clients_per_staff": 10.0},
                       customers={"seats": 4.0, "endpoints_per_seat": 1.25},
                       finance={"standard_stack_cost_per_endpoint": 8.0})

    assert alignment_program_need(program(0)) == (1, pytest.approx(1 * 4 * 1.25 * 8.0))
    assert alignment_program_need(program(10)) == (1, pytest.approx(10 * 4 * 1.25 * 8.0))
    assert alignment_program_need(program(21)) == (3, pytest.approx(21 * 4 * 1.25 * 8.0))
    assert lever_cost("-2 pp annual churn", program(0)).owner_hours_per_month == 1.0
    assert "1 alignment staff for 1 clients" in lever_cost("the standardization program",
                                                           program(0)).cost


def _outcomes(owner_value, profit_path=(0.0,), cumulative_profit=None, rep_meetings=None,
              rep_kept=None, rep_pay=None, managed_margin=None):
    """A scenario's outcomes built by hand (only what the scan's pairings read)."""
    from simulator.analysis.scan import _Outcomes

    owner = np.asarray(owner_value, dtype=np.float64)
    n = owner.size
    zeros = np.zeros(n)
    return _Outcomes(summary={}, broke=zeros, broke_by_month=zeros, insolvent=zeros,
                     cumulative_profit=(zeros if cumulative_profit is None
                                        else np.asarray(cumulative_profit, dtype=np.float64)),
                     mrr_final=zeros, values={"owner_value": owner},
                     profit_path=np.asarray(profit_path, dtype=np.float64),
                     rep_meetings=zeros if rep_meetings is None else np.asarray(rep_meetings),
                     rep_kept=(np.zeros(n, dtype=bool) if rep_kept is None
                               else np.asarray(rep_kept)),
                     rep_pay=zeros if rep_pay is None else np.asarray(rep_pay),
                     managed_margin=managed_margin)


def test_pays_off_and_payback_by_their_definitions():
    """P(pays off): the share of paired paths whose owner value rises (a tie does not),
    with its Wilson 95% interval; payback: the first month from which the lever's mean
    cumulative profit stays at or above the business as it is."""
    from scipy.stats import binomtest

    from simulator.analysis.scan import _payback_month, _pays_off

    ref = _outcomes([1.0, 2, 3, 4, 5], profit_path=[0.0, -10, -5, 10, 30])
    lever = _outcomes([2.0, 2, 5, 1, 6], profit_path=[0.0, -20, -8, 12, 31])
    ci = binomtest(3, 5).proportion_ci(confidence_level=0.95, method="wilson")
    assert _pays_off(ref, lever) == {"value": 0.6, "ci95": [pytest.approx(ci.low, rel=1e-12),
                                                             pytest.approx(ci.high, rel=1e-12)]}
    assert _payback_month(ref, lever) == 3  # behind in months 1 and 2, level or ahead after
    behind_at_the_end = _outcomes([0.0] * 5, profit_path=[0.0, -20, -8, 12, 29])
    assert _payback_month(ref, behind_at_the_end) is None
    never_behind = _outcomes([0.0] * 5, profit_path=[0.0, -10, -5, 10, 30])  # level
    assert _payback_month(ref, never_behind) == 0


def test_break_even_in_words_by_branch():
    """The rep's meetings (pay over the slope of the paired gains before pay), the price
    rise's clients (r / (g + r)), the owner's hour (mean gain over hours), else payback."""
    from simulator.analysis.levers import LeverCost
    from simulator.analysis.scan import break_even

    months = 24
    x = np.arange(1.0, 13.0)                     # 12 kept reps' meetings a month
    pay = np.full(12, 1_000.0)
    ref = _outcomes(np.zeros(12), profit_path=[0.0, 0, 0], cumulative_profit=np.zeros(12),
                    managed_margin=0.3)
    rep = _outcomes(np.ones(12), profit_path=[0.0, -1, 1], cumulative_profit=250 * x - pay,
                    rep_meetings=x, rep_kept=np.ones(12, dtype=bool), rep_pay=pay)
    spend = LeverCost(8_000.0, 4.0, "", "", "")
    for name in ("one more salesperson", "a salesperson from month 6",
                 "a salesperson from month 1"):
        lever = Lever(name, "", {}, spend)
        assert break_even(lever, ref, rep, months) == (
            "the rep must book at least 4.0 meetings a month to pay for themselves "
            "(cumulative profit by month 24); a rep who stays books 6.5 (median), a washout "
            "is let go after the review"), name
    # fewer than 10 kept reps: no slope; the lever's profit path decides
    few = _outcomes(np.ones(12), profit_path=[0.0, -1, 1], cumulative_profit=250 * x - pay,
                    rep_meetings=x, rep_kept=x <= 9, rep_pay=pay)
    assert break_even(lever, ref, few, months) == ("pays back its cost in profit by month 2 "
                                                   "(mean cumulative profit)")
    price = Lever("+10% price per seat", "", {}, LeverCost(0.0, 0.0, "", "", ""))
    assert break_even(price, ref, rep, months) == (
        "pays for itself while fewer than 25% of the clients it reaches leave over it (a "
        "client's gross profit rises from 30% to 40% of today's fee)")
    no_margin = _outcomes(np.zeros(12), profit_path=[0.0, 0, 0])
    behind = _outcomes(np.zeros(12), profit_path=[0.0, 1, -1])
    assert break_even(price, no_margin, behind, months) == (
        "its cost is not paid back in profit by month 24")
    hours = Lever("-2 pp annual churn", "", {}, LeverCost(0.0, 23.0, "", "", ""))
    valued = _outcomes(np.full(12, 600.0), profit_path=[0.0, 0, 0])
    gain = _outcomes(np.full(12, 1_704.0), profit_path=[0.0, -1, -1])
    # 1,104 more owner value (paired) over 23 hours x 24 months = 552 hours: $2 an hour
    assert break_even(hours, valued, gain, months) == (
        "each owner hour it takes returns +$2 of owner value (about 552 hours over 24 "
        "months); worth it while the owner's hour earns less elsewhere")


def test_scan_table_and_lines_are_its_summary(scan):
    """``to_frame`` is ``to_dict`` lever by lever, column by column; ``lines`` writes the
    same numbers in words."""
    from simulator.analysis.scan import _dollars, _pp
    from simulator.formatting import money, pct_short, signed_dollars

    assert (_pp(None), _pp(0.004), _pp(0.25), _pp(-0.123), _pp(0.99)) == (
        "n/a", "0", "+25", "-12", "+99")
    assert (_dollars(None), _dollars(1_234.4), _dollars(-5.0)) == ("n/a", "+$1,234", "-$5")
    data = scan.to_dict()
    h, m = str(scan.months), str(scan.scan_month)
    frame = scan.to_frame()
    assert list(frame.index) == [e["name"] for e in data["levers"]]
    for e in data["levers"]:
        d, row = e["difference"], frame.loc[e["name"]]
        expected = {
            "p_break_by_horizon": e["p_break_by"][h]["value"],
            "p_break_by_horizon_low": e["p_break_by"][h]["ci95"][0],
            "p_break_by_horizon_high": e["p_break_by"][h]["ci95"][1],
            f"p_break_by_{m}": e["p_break_by"][m]["value"],
            "diff_p_break_by_horizon": d["p_break_by_horizon"]["value"],
            "diff_p_break_by_horizon_low": d["p_break_by_horizon"]["ci95"][0],
            "diff_p_break_by_horizon_high": d["p_break_by_horizon"]["ci95"][1],
            f"diff_p_break_by_{m}": d[f"p_break_by_{m}"]["value"],
            "median_months": e["median_months"]["value"],
            "cumulative_profit_mean": e["cumulative_profit_mean"]["value"],
            "diff_cumulative_profit": d["cumulative_profit_mean"]["value"],
            "p_insolvent": e["p_insolvent"]["value"],
            "diff_p_insolvent": d["p_insolvent"]["value"],
            "diff_owner_value": d["owner_value_mean"]["value"],
            "diff_owner_value_low": d["owner_value_mean"]["ci95"][0],
            "diff_owner_value_high": d["owner_value_mean"]["ci95"][1],
            "p_pays_off": e["p_pays_off"]["value"],
            "cost_dollars_per_month": e["cost"]["dollars_per_month"],
            "cost_owner_hours_per_month": e["cost"]["owner_hours_per_month"],
            "break_even": e["break_even"],
            "set": json.dumps(e["set"]),
        }
        assert sorted(row.index) == sorted(expected), e["name"]
        for column, value in expected.items():
            got = row[column]
            assert got == value or (value is None and got != got), (e["name"], column)
    before = data["as_is"]["p_break_by"][h]["value"]
    lines = scan.lines(None)
    assert len(lines) == len(data["levers"]) and scan.lines(2) == lines[:2]
    for e, line in zip(data["levers"], lines, strict=True):
        d = e["difference"]["p_break_by_horizon"]
        value, cost = e["difference"]["owner_value_mean"], e["cost"]
        assert line == (
            f"{e['name']}: {pct_short(before)} -> {pct_short(e['p_break_by'][h]['value'])} "
            f"by month {scan.months} ({_pp(d['value'])} pp [{_pp(d['ci95'][0])}, "
            f"{_pp(d['ci95'][1])}]); owner value {signed_dollars(value['value'])} "
            f"[{signed_dollars(value['ci95'][0])}, {signed_dollars(value['ci95'][1])}], pays "
            f"off on {pct_short(e['p_pays_off']['value'])} of paths; out of cash "
            f"{pct_short(e['p_insolvent']['value'])} "
            f"({_pp(e['difference']['p_insolvent']['value'])} pp); cost "
            f"{money(cost['dollars_per_month'])}/month, {cost['owner_hours_per_month']:g} "
            "owner hours/month; cumulative profit "
            f"{signed_dollars(e['difference']['cumulative_profit_mean']['value'])}; "
            f"{e['break_even']}")


def test_the_scan_runs_its_seed_and_keeps_the_as_is_draws():
    """A scenario of the scan is the run of its seed (not the config's) and, for the
    business as it is, keeps the per-path draws of the uncertain assumptions."""
    from simulator.analysis.scan import _Outcomes, _scan_outcomes
    from simulator.api import simulate

    cfg = _config(simulation={"months": 24, "paths": 40})  # the config's seed is 11
    got = _scan_outcomes(cfg, 40, 4, None, False, draws=True)
    kept = _Outcomes.of(simulate(cfg, n_paths=40, seed=4, progress=False, keep_paths=True),
                        draws=True)
    assert json.dumps(got.summary, sort_keys=True) == json.dumps(kept.summary, sort_keys=True)
    np.testing.assert_array_equal(got.cumulative_profit, kept.cumulative_profit)
    assert got.draws and got.draws.keys() == kept.draws.keys()
    for name in kept.draws:
        np.testing.assert_array_equal(got.draws[name], kept.draws[name], err_msg=name)
    assert _scan_outcomes(cfg, 40, 4, None, False).draws is None


def test_a_users_lever_in_the_scan_and_the_scans_method():
    cfg = _config(simulation={"months": 24, "paths": 30})
    scan = lever_scan(cfg, n_paths=30, levers=[Lever("two reps", "mine", {"sales.reps": 2})])
    data = scan.to_dict()
    (entry,) = data["levers"]
    assert entry["cost"] == {"cost": "your lever: what its overrides set", "risk": None,
                             "source": "your config"}
    from simulator.results import config_sha256, package_version

    assert data["config_sha256"] == config_sha256(cfg) and data["version"] == package_version()
    default = lever_scan(cfg, levers=[]).to_dict()  # n_paths: simulation.paths (30)
    assert default["n_paths"] == 30 and default["levers"] == []
    with pytest.raises(ValueError, match=r"n_paths: got 0; allowed: 1 to .* \(the scan pairs "
                                         r"every path's values\)"):
        lever_scan(cfg, n_paths=0)
    risen = {lv.name: lv.set for lv in resolve_levers(_config(customers={"price_rise": {
        "dist": "uniform", "low": 0.5, "high": 0.95}}))}
    # 1.1 x 0.95 + 0.1 = 1.145, clamped to the key's largest allowed rise, 1.0
    assert risen["+10% price per seat"]["customers.price_rise"]["high"] == 1.0
    assert "; cost: see its overrides; cumulative profit " in scan.lines()[0]
    assert (data["n_paths"], data["seed"], data["months"], data["scan_month"]) == (30, 11, 24,
                                                                                  24)
    assert data["method"] == (
        "every lever simulated with the seed and paths of the business as it is (common "
        "random numbers); differences are paired over paths (lever minus as is): mean "
        "difference with a paired t 95% interval; p-value of a probability by the exact "
        "McNemar test, of a mean by the paired t-test (as msp-sim compare); cumulative "
        "profit is the pretax profit summed over months 1 to the horizon; levers are ranked "
        "by the paired change in the owner's value (pay plus the sale at the horizon, "
        "discounted: docs/model.md); P(pays off) is the share of paths on which the lever "
        "raises it")


def test_a_moved_distribution_stays_inside_its_keys_range_and_names_clash():
    """``_within``: a moved distribution's ``low`` and ``high`` are clamped to the key's
    allowed range (``ge``/``gt`` below, ``le``/``lt`` above); numbers and keys without a
    range pass as they are. A lever added under a standard lever's name is refused."""
    from simulator.analysis.levers import _within

    moved = {"dist": "uniform", "low": -0.8, "high": 1.4}
    assert _within("customers.price_rise", moved) == {"dist": "uniform", "low": -0.5,
                                                      "high": 1.0}
    assert _within("churn.annual_rate", moved) == {"dist": "uniform", "low": 0, "high": 1}
    inside = {"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.3}
    assert _within("staff.escalation_share", inside) == inside
    assert _within("staff.escalation_share", {"dist": "normal", "mean": 0.2, "sd": 0.1}) == {
        "dist": "normal", "mean": 0.2, "sd": 0.1}
    assert _within("customers.price_rise", 1.7) == 1.7
    assert _within("no.such_key", moved) is moved
    with pytest.raises(ConfigError) as err:
        resolve_levers(_config(levers={"add": [{"name": "+10% price per seat",
                                                "set": {"sales.reps": 2}}]}))
    assert err.value.problems == [("levers.add[1].name", "+10% price per seat",
                                   "a lever of that name exists; allowed: a new name")]


def test_scaling_a_normal_stretches_its_sd_and_no_other_spread():
    """``scaled``: a normal's mean and sd (and bounds) by the factor; a lognormal's median
    and bounds but not its sigma (a shape, not a scale)."""
    normal = {"dist": "normal", "mean": 0.2, "sd": 0.05, "low": 0.0}
    assert scaled(normal, 0.5) == {"dist": "normal", "mean": pytest.approx(0.1),
                                   "sd": pytest.approx(0.025), "low": 0.0}
    logn = {"dist": "lognormal", "median": 20.0, "sigma": 0.6, "low": 3.0, "high": 200.0}
    assert scaled(logn, 2.0) == {"dist": "lognormal", "median": 40.0, "sigma": 0.6,
                                 "low": 6.0, "high": 400.0}


def test_what_the_scan_keeps_of_a_run_by_its_definitions():
    """``_Outcomes.of`` on a kept run, each field from the trajectories: break by the
    scan month counts first passages in months 0 to it (inclusive), the profit path is
    the cumulative mean over paths, the managed margin is the last 12 months' gross
    profit over revenue (``None`` without revenue), the quantiles and intervals are
    those of the per-path values."""
    from simulator.analysis.common import mean_ci
    from simulator.analysis.scan import _Outcomes
    from simulator.api import simulate

    cfg = _config(simulation={"months": 24, "paths": 80, "threshold_mrr": 60_000})
    r = simulate(cfg, n_paths=80, seed=2, progress=False, keep_paths=True)
    o = _Outcomes.of(r)
    fp = np.asarray(r.first_passage)
    assert np.any(fp == 24) and np.any(fp > 0) and np.any(fp < 0)  # the edges occur
    np.testing.assert_array_equal(o.broke_by_month, ((fp >= 0) & (fp <= 24)).astype(float))
    np.testing.assert_array_equal(o.broke, (fp >= 0).astype(float))
    np.testing.assert_allclose(o.profit_path, np.cumsum(r["pretax_profit"].mean(axis=0)),
                               rtol=1e-12)
    margin = r["gross_profit_managed"][:, 13:25].sum() / r["revenue_managed"][:, 13:25].sum()
    assert o.managed_margin == pytest.approx(margin, rel=1e-12)
    owner, cash = o.values["owner_value"], o.values["cash"]
    s = o.summary
    assert s["owner_value_mean"] == {"value": pytest.approx(owner.mean(), rel=1e-12),
                                     "ci95": mean_ci(owner)}
    assert s["cash_p10"] == pytest.approx(np.quantile(cash, 0.1), rel=1e-12)
    assert s["cash_p50"] == pytest.approx(np.quantile(cash, 0.5), rel=1e-12)
    median = r.time_quantile(0.5)
    assert s["median_months"] == {"value": median.value, "ci95": [median.low, median.high]}
    from simulator.analysis.common import run_params
    from simulator.results.value import cvar

    assert sorted(s) == sorted([
        "p_break_by", "median_months", "cumulative_profit_mean", "p_insolvent",
        "mrr_final_mean", "owner_value_mean", "owner_value_p10", "owner_value_p50",
        "owner_value_p90", "owner_value_cvar10", "enterprise_value_p50", "cash_p10",
        "cash_p50", "cash_cvar10"])
    assert s["cumulative_profit_mean"]["ci95"] == mean_ci(o.cumulative_profit)
    assert s["owner_value_cvar10"] == pytest.approx(cvar(owner), rel=1e-12)
    assert s["enterprise_value_p50"] == pytest.approx(
        np.median(o.values["enterprise_value"]), rel=1e-12)
    params = run_params(r)
    np.testing.assert_array_equal(
        o.rep_kept, params["sales_rep_productivity"] >= params["sales_rep_fire_below"])
    np.testing.assert_allclose(o.rep_pay, (params["sales_rep_cost_per_month"]
                                           + params["finance_overhead_per_employee_month"])
                               * np.maximum(24 - params["sales_rep_start_month"] + 1, 0.0),
                               rtol=1e-12)
    # above the threshold at the start, one month sustained: every path breaks in month 0
    run0 = simulate(_config(simulation={"months": 24, "paths": 20, "threshold_mrr": 1_000,
                                        "sustain_months": 1}),
                    n_paths=20, seed=2, progress=False, keep_paths=True)
    assert np.asarray(run0.first_passage).tolist() == [0] * 20
    assert _Outcomes.of(run0).broke_by_month.tolist() == [1.0] * 20
    # no clients and no selling: no managed revenue, no margin
    empty = _Outcomes.of(simulate(_config(start={"customers": 0, "techs": 1},
                                          sales={"proposal_rate": 0.0},
                                          simulation={"months": 24, "paths": 10}),
                                  n_paths=10, seed=2, progress=False, keep_paths=True))
    assert empty.managed_margin is None
    # the uncertain assumptions' draws are kept only when asked for (the as-is run's)
    assert o.draws is None and _Outcomes.of(r, draws=True).draws is not None


def test_levers_rank_by_owner_value_a_small_gain_above_none():
    """The scan ranks levers by the paired change in the owner's value: a gain of 40
    cents ranks above a lever that changes nothing (0 is no change, not a stand-in
    for a missing value), a loss below it."""
    from simulator.analysis.scan import LeverScanResult

    cfg = _config(simulation={"months": 24, "paths": 4})
    names = ["a: nothing", "b: a small gain", "c: a loss"]
    levers = [Lever(name, "", {}) for name in names]
    def outcomes(owner_value):
        o = _outcomes(owner_value)
        o.values.update(enterprise_value=np.zeros(4), cash=np.zeros(4))
        return o

    as_is = outcomes([100.0, 200.0, 300.0, 400.0])
    pulled = [outcomes([100.0, 200.0, 300.0, 400.0]),
              outcomes([100.3, 200.5, 300.4, 400.4]),
              outcomes([99.0, 199.0, 299.0, 399.0])]
    scan = LeverScanResult(config=cfg, levers=levers, n_paths=4, seed=3, _as_is=as_is,
                           _pulled=pulled)
    entries = scan.to_dict()["levers"]
    assert [e["name"] for e in entries] == ["b: a small gain", "a: nothing", "c: a loss"]
    assert [e["difference"]["owner_value_mean"]["value"] for e in entries] == pytest.approx(
        [0.4, 0.0, -1.0], abs=1e-9)


def test_the_scan_takes_up_to_the_path_limit(monkeypatch):
    """``n_paths`` from 1 to ``KEEP_PATHS_LIMIT`` inclusive (the limit lowered here to
    keep the run small): the limit itself runs, one more is refused."""
    from simulator.analysis import scan as scan_module

    monkeypatch.setattr(scan_module, "KEEP_PATHS_LIMIT", 6)
    cfg = _config(simulation={"months": 12, "paths": 6})
    assert lever_scan(cfg, n_paths=6, levers=[]).to_dict()["n_paths"] == 6
    with pytest.raises(ValueError, match=r"n_paths: got 7; allowed: 1 to 6 "):
        lever_scan(cfg, n_paths=7, levers=[])


def test_the_scan_keeps_the_draws_of_the_business_as_it_is():
    """The value of information reads the per-path draws of the business as it is: the
    scan keeps those (the as-is run's own), not a lever's."""
    from simulator.analysis.scan import _scan_outcomes

    cfg = _config(simulation={"months": 12, "paths": 20})
    scan = lever_scan(cfg, n_paths=20, levers=[Lever("two reps", "", {"sales.reps": 2})])
    own = _scan_outcomes(cfg, 20, 11, None, False, draws=True).draws
    assert own and scan._as_is.draws is not None
    assert scan._as_is.draws.keys() == own.keys()
    for name in own:
        np.testing.assert_array_equal(scan._as_is.draws[name], own[name], err_msg=name)
    assert scan._pulled[0].draws is None


def test_break_even_edges_the_reps_pay_the_margin_and_an_owner_hour():
    """The rep's meetings: pay over the slope of the gain *before* pay, so a pay that
    grows with meetings (commission) is added back, not taken off twice; the price
    rise's r / (g + r) only where the rise makes a client's gross profit positive
    (g = -10%: none, so payback); the owner's hour for any owner time above 0 (one hour
    a month here)."""
    from simulator.analysis.levers import LeverCost
    from simulator.analysis.scan import break_even

    months = 24
    x = np.arange(1.0, 13.0)
    pay = 100.0 * x                                # mean 650
    ref = _outcomes(np.zeros(12), profit_path=[0.0, 0, 0], cumulative_profit=np.zeros(12))
    rep = _outcomes(np.ones(12), profit_path=[0.0, -1, 1], cumulative_profit=500 * x - pay,
                    rep_meetings=x, rep_kept=np.ones(12, dtype=bool), rep_pay=pay)
    lever = Lever("one more salesperson", "", {}, LeverCost(8_000.0, 4.0, "", "", ""))
    # the gain before pay is 500 a meeting: 650 / 500 = 1.3 meetings
    assert break_even(lever, ref, rep, months).startswith(
        "the rep must book at least 1.3 meetings a month to pay for themselves")
    price = Lever("+10% price per seat", "", {}, LeverCost(0.0, 0.0, "", "", ""))
    losing = _outcomes(np.zeros(12), profit_path=[0.0, 0, 0], managed_margin=-0.10)
    ahead = _outcomes(np.zeros(12), profit_path=[0.0, -1, 1])
    assert break_even(price, losing, ahead, months) == (
        "pays back its cost in profit by month 2 (mean cumulative profit)")
    # a thin margin the rise still makes positive: g = 5%, so r / (g + r) = 10 / 15
    thin = _outcomes(np.zeros(12), profit_path=[0.0, 0, 0], managed_margin=0.05)
    assert break_even(price, thin, ahead, months) == (
        "pays for itself while fewer than 67% of the clients it reaches leave over it (a "
        "client's gross profit rises from 5% to 15% of today's fee)")
    hour = Lever("monthly reviews", "", {}, LeverCost(0.0, 1.0, "", "", ""))
    valued = _outcomes(np.full(12, 600.0), profit_path=[0.0, 0, 0])
    gain = _outcomes(np.full(12, 648.0), profit_path=[0.0, 1, 1])
    assert break_even(hour, valued, gain, months) == (
        "each owner hour it takes returns +$2 of owner value (about 24 hours over 24 "
        "months); worth it while the owner's hour earns less elsewhere")


def test_the_scans_insolvency_difference_is_tested_by_mcnemar():
    """A probability's paired difference takes the exact McNemar test on the discordant
    paths (the scan's method text): insolvent on 3 more paths of 6, none fewer, is
    ``binomtest(3, 3)``'s p = 0.25 (the paired t-test would give another)."""
    from scipy import stats as st

    from simulator.analysis.scan import LeverScanResult

    cfg = _config(simulation={"months": 24, "paths": 6})
    as_is = _outcomes(np.zeros(6))
    pulled = _outcomes(np.zeros(6))
    for o in (as_is, pulled):
        o.values.update(enterprise_value=np.zeros(6), cash=np.zeros(6))
    pulled.insolvent = np.array([1.0, 1, 1, 0, 0, 0])
    scan = LeverScanResult(config=cfg, levers=[Lever("x", "", {})], n_paths=6, seed=3,
                           _as_is=as_is, _pulled=[pulled])
    (entry,) = scan.to_dict()["levers"]
    got = entry["difference"]["p_insolvent"]
    assert got["value"] == pytest.approx(0.5)
    assert got["p_value"] == pytest.approx(st.binomtest(3, 3).pvalue) == pytest.approx(0.25)
    assert st.ttest_rel(pulled.insolvent, as_is.insolvent).pvalue != pytest.approx(0.25)
    # P(break) by the horizon and by the scan month alike: 2 more paths of 6 and 1 fewer
    # by the horizon (binomtest(2, 3)), 4 more by month 24 (binomtest(4, 4))
    as_is.broke, pulled.broke = np.array([1.0, 0, 0, 0, 0, 0]), np.array([0.0, 1, 1, 0, 0, 0])
    pulled.broke_by_month = np.array([1.0, 1, 1, 1, 0, 0])
    (entry,) = LeverScanResult(config=cfg, levers=[Lever("x", "", {})], n_paths=6, seed=3,
                               _as_is=as_is, _pulled=[pulled]).to_dict()["levers"]
    for key, gain, loss in (("p_break_by_horizon", 2, 1), ("p_break_by_24", 4, 0)):
        d = entry["difference"][key]
        assert d["value"] == pytest.approx((gain - loss) / 6)
        assert d["p_value"] == pytest.approx(st.binomtest(gain, gain + loss).pvalue)


def test_levers_that_tie_on_owner_value_rank_by_the_rise_in_p_break():
    """docs/levers.md: levers that tie on the change in the owner's value rank by the
    change in P(break by the horizon), the larger rise first, then by name: of three
    levers that leave every path's owner value alone, the one that breaks on two more
    paths of four ranks first (+0.5), then no change, then one path fewer (-0.25),
    against the names' order."""
    from simulator.analysis.scan import LeverScanResult

    cfg = _config(simulation={"months": 24, "paths": 4})
    names = ["a: breaks less", "b: no change", "c: breaks more"]

    def outcomes(broke):
        o = _outcomes([100.0, 200.0, 300.0, 400.0])
        o.values.update(enterprise_value=np.zeros(4), cash=np.zeros(4))
        o.broke = np.asarray(broke, dtype=np.float64)
        return o

    as_is = outcomes([1, 0, 0, 0])
    pulled = [outcomes([0, 0, 0, 0]), outcomes([1, 0, 0, 0]), outcomes([1, 1, 1, 0])]
    scan = LeverScanResult(config=cfg, levers=[Lever(n, "", {}) for n in names], n_paths=4,
                           seed=3, _as_is=as_is, _pulled=pulled)
    entries = scan.to_dict()["levers"]
    assert [e["name"] for e in entries] == ["c: breaks more", "b: no change", "a: breaks less"]
    assert [e["difference"]["p_break_by_horizon"]["value"] for e in entries] == [
        0.5, 0.0, -0.25]
    assert {e["difference"]["owner_value_mean"]["value"] for e in entries} == {0.0}


def test_the_managed_margin_of_a_short_horizon_and_the_final_mrrs_interval():
    """``_Outcomes.of``: the managed margin is gross profit over revenue of the last 12
    months, all of months 1 to 12 on a 12-month horizon (month 0 is the start, not a
    simulated month); the final MRR's mean with its Student-t 95% interval (mean +-
    t(0.975, n - 1) sd / sqrt(n))."""
    from simulator.analysis.scan import _Outcomes
    from simulator.api import simulate

    cfg = _config(simulation={"months": 12, "paths": 20})
    r = simulate(cfg, n_paths=20, seed=2, progress=False, keep_paths=True)
    o = _Outcomes.of(r)
    gp, rev = r["gross_profit_managed"], r["revenue_managed"]
    assert o.managed_margin == pytest.approx(gp[:, 1:13].sum() / rev[:, 1:13].sum(),
                                             rel=1e-12)
    # month 1 weighs: the margin without it differs
    assert gp[:, 2:13].sum() / rev[:, 2:13].sum() != pytest.approx(o.managed_margin,
                                                                   rel=1e-9)
    mrr = r["mrr"][:, -1]
    np.testing.assert_array_equal(o.mrr_final, mrr)
    half = stats.t.ppf(0.975, mrr.size - 1) * mrr.std(ddof=1) / math.sqrt(mrr.size)
    assert mrr.std() > 0
    got = o.summary["mrr_final_mean"]
    assert got["value"] == pytest.approx(mrr.mean(), rel=1e-12)
    assert got["ci95"] == pytest.approx([mrr.mean() - half, mrr.mean() + half], rel=1e-9)


def test_a_users_lever_without_a_description_and_a_bad_lever_handed_to_the_scan():
    """docs/levers.md, "Your own levers": a lever of ``[[levers.add]]`` without a
    description reads "your lever"; a lever handed to :func:`lever_scan` whose overrides
    make an invalid config is refused before simulating, naming ``[levers]`` and the
    key."""
    cfg = config_from_dict({**SMALL, "levers": {"add": [
        {"name": "mine", "set": {"sales.reps": 2}}]}})
    (mine,) = [lv for lv in resolve_levers(cfg) if lv.name == "mine"]
    assert mine.description == "your lever"
    bad = Lever("no technicians", "", {"start.techs": -1})
    with pytest.raises(ConfigError) as err:
        lever_scan(_config(), n_paths=10, levers=[bad])
    assert err.value.source.startswith("[levers] ")  # "(with `overrides`)" follows
    assert [key for key, _, _ in err.value.problems] == ["start.techs"]


def test_the_scan_reports_progress_by_chunk():
    """``lever_scan`` passes ``chunk_size`` and ``progress`` to the runs (its docstring): a
    user's ``progress(done, total)`` hears of each chunk of each scenario."""
    calls = []
    lever_scan(_config(simulation={"months": 12, "paths": 30}), n_paths=30, levers=[],
               chunk_size=10, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(10, 30), (20, 30), (30, 30)]
