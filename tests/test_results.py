"""SimulationResult: time to threshold, p_break_by, quantiles and the summary contract."""

from __future__ import annotations

import hashlib
import importlib.util
import json

import numpy as np
import pytest

from simulator.api import simulate
from simulator.config.loader import config_from_dict
from simulator.model.metrics import METRICS, REVENUE_METRICS
from simulator.model.sampling import param_dtype
from simulator.results import DEFAULT_QUANTILES, SimulationResult, config_sha256

HAS_API = importlib.util.find_spec("simulator.api") is not None


def make_result(first_passage, months=10, threshold=100_000.0, seed=7, rng_seed=0):
    """A synthetic result whose MRR is consistent with ``first_passage``."""
    fp = np.asarray(first_passage, dtype=np.int64)
    n = fp.size
    config = config_from_dict({"simulation": {"months": months, "paths": n, "seed": seed,
                                              "threshold_mrr": threshold,
                                              "sustain_months": 1}})
    rng = np.random.default_rng(rng_seed)
    metrics = {name: rng.random((n, months + 1)) for name in METRICS}
    t = np.arange(months + 1)
    # below the threshold before the first passage, above from it on
    below = threshold * (0.5 + 0.4 * t / max(months, 1))
    mrr = np.tile(below, (n, 1))
    for i, f in enumerate(fp):
        if f >= 0:
            mrr[i, f:] = threshold * (1.0 + 0.01 * (t[f:] - f + i))
    metrics["mrr"] = mrr
    params = np.zeros(n, dtype=param_dtype())
    for name in params.dtype.names:
        params[name] = rng.random(n)
    return SimulationResult(config=config, seed=seed, metrics=metrics, first_passage=fp,
                            params=params)


# hand-checked case: 8 paths, horizon 10; 3 never break (censored at 10)
SMALL = [0, 3, 3, 5, -1, -1, 10, -1]


def test_basic_properties():
    res = make_result(SMALL)
    assert res.n_paths == 8
    assert res.months == 10
    assert res.threshold_mrr == 100_000.0
    assert res.sustain_months == 1
    assert res["mrr"].shape == (8, 11)
    assert res.metric_names == METRICS
    with pytest.raises(KeyError, match="unknown metric"):
        res["nope"]
    # the standard deviation over paths (ddof=1) of every month; 0 for a single path
    np.testing.assert_allclose(res.std("cash"), res["cash"].std(axis=0, ddof=1), rtol=1e-12)
    two = make_result([3, -1])
    np.testing.assert_allclose(two.std("cash"), two["cash"].std(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_array_equal(make_result([3]).std("mrr"), np.zeros(11))


def test_seed_defaults_to_config():
    res = make_result(SMALL)
    res2 = SimulationResult(config=res.config, seed=None, metrics=res.metrics,
                            first_passage=res.first_passage, params=res.params)
    assert res2.seed == res.config.simulation.seed


def test_shape_mismatch_is_rejected():
    res = make_result(SMALL)
    bad = dict(res.metrics, mrr=res["mrr"][:, :5])
    with pytest.raises(ValueError, match=r"metric 'mrr' has shape \(8, 5\), expected \(8, 11\)"):
        SimulationResult(config=res.config, seed=1, metrics=bad,
                         first_passage=res.first_passage)
    kw = {"config": res.config, "seed": 1, "metrics": res.metrics}
    for fp in ([], [[1, 2]]):
        with pytest.raises(ValueError, match="first_passage must be a non-empty 1-d array"):
            SimulationResult(**kw, first_passage=np.array(fp))
    one = SimulationResult(config=res.config, seed=1, metrics={k: v[:1] for k, v in
                                                               res.metrics.items()},
                           first_passage=[3])
    assert one.n_paths == 1 and one.insolvency_month.dtype == np.int64
    with pytest.raises(ValueError, match="metrics must contain 'mrr'"):
        SimulationResult(config=res.config, seed=1, first_passage=res.first_passage,
                         metrics={k: v for k, v in res.metrics.items() if k != "mrr"})
    with pytest.raises(ValueError, match="params has 7 rows, expected 8"):
        SimulationResult(**kw, first_passage=res.first_passage, params=res.params[:7])
    with pytest.raises(ValueError, match=r"insolvency_month has shape \(7,\), expected \(8,\)"):
        SimulationResult(**kw, first_passage=res.first_passage, insolvency_month=[-1] * 7)
    with pytest.raises(ValueError, match=r"neither trajectories nor statistics \(a run of "
                       "outcomes only: first passages and insolvency months"):
        SimulationResult(config=res.config, seed=1, metrics={},
                         first_passage=res.first_passage).mean("mrr")
    with pytest.raises(KeyError, match="unknown metric 'nope'; available: mrr, "):
        res["nope"]


def test_config_sha256_is_the_sha256_of_the_canonical_json():
    """SHA-256 of the config's JSON: aliases, sorted keys, no spaces, ASCII escapes (a
    book client's name may not be ASCII)."""
    import hashlib

    cfg = config_from_dict({"start": {"book": [{"client": "Müller", "seats": 5,
                                                  "monthly_fee": 600}]},
                           "churn": {"annual_rate": {"dist": "beta", "mean": 0.11, "sd": 0.02}}})
    data = cfg.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert '"mean":0.11' in text and text.isascii() and "\\u00fc" in text
    assert ", " not in text and ": " not in text
    assert config_sha256(cfg) == hashlib.sha256(text.encode("ascii")).hexdigest()


def test_ecdf_hand_checked_small_case():
    res = make_result(SMALL)
    ttt = res.time_to_threshold()
    # Kaplan-Meier with censoring only at the horizon: plain fractions
    np.testing.assert_allclose(ttt.times, [0, 3, 5, 10])
    np.testing.assert_allclose(ttt.cdf_values, [1 / 8, 3 / 8, 4 / 8, 5 / 8])
    np.testing.assert_allclose(ttt.cdf(np.arange(11)),
                               [1, 1, 1, 3, 3, 4, 4, 4, 4, 4, 5] / np.float64(8))
    assert ttt.censored_fraction == 3 / 8
    # median: first month the CDF reaches 1/2 -> 5; p25 -> 3; p10 -> 0 (already above)
    assert res.time_quantile(0.5).value == 5
    assert res.time_quantile(0.25).value == 3
    assert res.time_quantile(0.1).value == 0
    assert res.time_quantile(0.75).value is None
    # Greenwood at t=5: var = S^2 * (1/(8*7) + 2/(7*5) + 1/(5*4)) = 0.25 * 0.125
    low, high = ttt.confidence_band()
    half = 1.959963984540054 * np.sqrt(0.25 * 0.125)
    assert low[2] == pytest.approx(0.5 - half)
    assert high[2] == pytest.approx(0.5 + half)
    # median CI: high side reaches 0.5 at t=3; low side never does
    med = res.time_quantile(0.5)
    assert (med.low, med.high) == (3, None)


def test_at_horizon_by_hand():
    """The horizon's scoreboard from its definition: the last 12 months (13-24 of 24) of
    every path together; MRR and cash quantiles of the horizon month."""
    fp = np.r_[24, np.arange(39) % 26 - 1]  # path 0 sits exactly on the threshold at 24
    res = make_result(fp, months=24)
    h = res.at_horizon()

    def total(name):
        return res[name][:, 13:25].sum()

    revenue = sum(total(name) for name in REVENUE_METRICS)
    endpoints = total("seats") * 1.2  # customers.endpoints_per_seat's default
    service_techs = total("techs") * (1 - total("project_hours") / total("work_hours"))
    mrr, cash = res["mrr"][:, 24], res["cash"][:, 24]
    assert res["mrr"][0, 24] == res.threshold_mrr
    expected = {
        "month": 24, "mrr_p50": np.median(mrr), "p_above_threshold": np.mean(fp >= 0),
        "pretax_margin_last_12_months": total("pretax_profit") / revenue,
        "managed_gross_margin_last_12_months": (total("gross_profit_managed")
                                                / total("revenue_managed")),
        "projects_gross_margin_last_12_months": (total("gross_profit_projects")
                                                 / total("revenue_projects")),
        "endpoints_per_tech": endpoints / total("techs"),
        "endpoints_per_service_tech": endpoints / service_techs,
        "cash_p10": np.quantile(cash, 0.1), "cash_p50": np.quantile(cash, 0.5),
        "cash_p90": np.quantile(cash, 0.9)}
    assert {k: h[k] for k in expected} == pytest.approx(expected, rel=1e-12)
    # P(at or above the threshold) in an earlier month: the same count, that month
    assert res.p_above_at(10) == np.mean((fp >= 0) & (fp <= 10))
    # a horizon inside the first year: months 1-10; a business of no revenue, no staff:
    # no margins and no endpoints per technician
    short = make_result(SMALL)
    expected = short["pretax_profit"][:, 1:].sum() / sum(
        short[name][:, 1:].sum() for name in REVENUE_METRICS)
    assert short.at_horizon()["pretax_margin_last_12_months"] == pytest.approx(expected)
    zero = SimulationResult(config=short.config, seed=1, first_passage=short.first_passage,
                            metrics={k: (v if k == "mrr" else np.zeros_like(v))
                                     for k, v in short.metrics.items()})
    empty = zero.at_horizon()
    assert [empty[k] for k in ("pretax_margin_last_12_months",
                               "managed_gross_margin_last_12_months",
                               "projects_gross_margin_last_12_months", "endpoints_per_tech",
                               "endpoints_per_service_tech")] == [None] * 5


def test_p_insolvent_by_counts_months_and_checks_its_range():
    res = make_result(SMALL)
    im = np.array([0, 3, -1, 5, -1, 10, 3, -1])
    res = SimulationResult(config=res.config, seed=1, metrics=res.metrics,
                           first_passage=res.first_passage, insolvency_month=im)
    for month, k in ((0, 1), (2, 1), (3, 3), (5, 4), (10, 5)):
        assert res.p_insolvent_by(month).value == k / 8, month
    with pytest.raises(ValueError, match="month must be in 0..10"):
        res.p_insolvent_by(11)
    with pytest.raises(ValueError, match="month must be in 0..10"):
        res.p_insolvent_by(-1)
    np.testing.assert_array_equal(make_result(SMALL).insolvency_month, -1)
    for p in (0.0, 1.0):
        with pytest.raises(ValueError, match="p must be in"):
            res.time_quantile(p)


def test_p_break_by_matches_direct_count():
    rng = np.random.default_rng(3)
    fp = rng.integers(-1, 25, size=500)
    res = make_result(fp, months=24)
    for month in (0, 1, 7, 12, 24):
        est = res.p_break_by(month)
        direct = np.mean((fp >= 0) & (fp <= month))
        assert est.value == pytest.approx(direct)
        assert est.low <= est.value <= est.high
        # the ECDF agrees with the direct count (censoring only at the horizon)
        assert res.time_to_threshold().cdf(month) == pytest.approx(direct)
    with pytest.raises(ValueError, match="month must be in 0..24, got 25"):
        res.p_break_by(25)
    with pytest.raises(ValueError, match="month must be in 0..24, got -1"):
        res.p_break_by(-1)


def test_months_are_labelled_with_the_calendar_month_from_the_start_date():
    res = make_result(SMALL)
    assert res.month_label(3) == "month 3"
    dated = config_from_dict({"simulation": {"months": 10, "start_date": "2026-01-01"}})
    res = SimulationResult(config=dated, seed=1, metrics=res.metrics,
                           first_passage=res.first_passage)
    assert res.month_label(3) == "month 3 (Apr 2026)"
    assert res.summary()["start_date"] == "2026-01-01"
    # (a date in the config: its JSON is what the fingerprint hashes)
    data = dated.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert config_sha256(dated) == hashlib.sha256(text.encode("ascii")).hexdigest()
    # the months whose chances a reader sees first: 12, 36, the horizon and those asked
    assert res._chance_months((0, 4, 11)) == [0, 4, 10]


def test_every_path_breaking_at_once_closes_the_band_at_zero_and_one():
    ttt = make_result([0, 0, 0, 0]).time_to_threshold()
    assert ttt.months == 10 and ttt.n_events == 4
    low, high = ttt.confidence_band()
    assert (low.tolist(), high.tolist()) == ([0.0], [1.0])


def test_all_paths_break_no_warning_and_closed_band():
    res = make_result([1, 2, 2, 4, 4, 4])
    ttt = res.time_to_threshold()
    low, high = ttt.confidence_band()  # filterwarnings=error: would raise on a warning
    assert np.all(np.isfinite(low)) and np.all(np.isfinite(high))
    assert high[-1] == 1.0 and np.all(np.diff(low) >= 0)
    assert res.time_quantile(0.9).value == 4
    assert res.censored_fraction == 0.0
    assert res.p_break_by(10).value == 1.0


def test_no_path_breaks():
    res = make_result([-1] * 5)
    assert res.p_break_by(10).value == 0.0
    assert res.time_quantile(0.5) == (None, None, None)
    assert res.censored_fraction == 1.0
    s = res.summary()
    assert s["time_to_threshold"] == dict.fromkeys(("median", "p10", "p25", "p75", "p90"))
    assert "not reached" in res.format_summary()


def test_quantiles_per_month():
    res = make_result(SMALL)
    qs = (0.1, 0.5, 0.9)
    q = res.quantiles(qs, metrics=["mrr", "cash"])
    assert set(q) == {"mrr", "cash"}
    assert q["mrr"].shape == (3, 11)
    np.testing.assert_allclose(q["cash"], np.quantile(res["cash"], qs, axis=0))
    assert set(res.quantiles()) == set(METRICS)
    assert res.quantiles()["mrr"].shape == (7, 11)
    # the rows of quantiles.csv: (month, metric, quantile, value), every cell once
    frame = res.to_frame(qs)
    assert list(frame.columns) == ["month", "metric", "quantile", "value"]
    assert len(frame) == 11 * len(METRICS) * 3
    table = res.quantiles(qs)
    for row in frame.sample(40, random_state=0).itertuples():
        assert row.value == table[row.metric][qs.index(row.quantile), row.month], row
    assert frame["month"].tolist()[:3 * len(METRICS)] == [0] * 3 * len(METRICS)
    import sys

    saved = sys.modules.get("pandas")
    sys.modules["pandas"] = None  # as if not installed
    try:
        with pytest.raises(ImportError, match=r"^to_frame\(\) needs pandas, an optional "
                           "dependency of msp-sim: pip install pandas$"):
            res.to_frame(qs)
    finally:
        sys.modules["pandas"] = saved
    # a NaN in a month: numpy's rules (that month's quantiles are NaN, the others as is)
    metrics = dict(res.metrics, cash=res["cash"].copy())
    metrics["cash"][2, 4] = np.nan
    nan = SimulationResult(config=res.config, seed=1, metrics=metrics,
                           first_passage=res.first_passage)
    got = nan.quantiles(qs, metrics=["cash"])["cash"]
    np.testing.assert_array_equal(got, np.quantile(metrics["cash"], qs, axis=0))
    assert np.isnan(got[:, 4]).all() and not np.isnan(got[:, 3]).any()


def test_summary_contract():
    rng = np.random.default_rng(5)
    res = make_result(rng.integers(-1, 61, size=300), months=60)
    s = res.summary()
    json.dumps(s, allow_nan=False)  # plain JSON types only
    for key, kind in [("n_paths", int), ("months", int), ("seed", int),
                      ("threshold_mrr", float), ("sustain_months", int),
                      ("p_break_by_horizon", float), ("censored_fraction", float),
                      ("config_sha256", str), ("version", str)]:
        assert type(s[key]) is kind, key
    assert s["n_paths"] == 300 and s["months"] == 60 and s["seed"] == 7
    assert set(s["time_to_threshold"]) == {"median", "p10", "p25", "p75", "p90"}
    for v in s["time_to_threshold"].values():
        assert v is None or type(v) is int
    assert set(s["mrr_final"]) == {"mean", "p5", "p50", "p95"}
    assert all(type(v) is float for v in s["mrr_final"].values())
    assert set(s["mrr_at_month"]) == {"12", "36", "60"}
    lo, hi = s["p_break_by_horizon_ci95"]
    assert lo <= s["p_break_by_horizon"] <= hi
    assert s["p_break_by_horizon"] + s["censored_fraction"] == pytest.approx(1.0)
    assert s["mrr_final"]["p50"] == pytest.approx(np.median(res["mrr"][:, -1]))
    assert len(s["config_sha256"]) == 64
    assert s["sampling"] == "random" and s["paths_kept"] is True and s["start_date"] is None
    # each reported month: the mean and the quantiles of that month's MRR
    names = ("p5", "p10", "p25", "p50", "p75", "p90", "p95")
    for m, entry in s["mrr_at_month"].items():
        col = res["mrr"][:, int(m)]
        assert entry == pytest.approx({"mean": col.mean(), **dict(zip(
            names, np.quantile(col, DEFAULT_QUANTILES), strict=True))}, rel=1e-12), m
    assert s["mrr_start"] == pytest.approx({"mean": res["mrr"][:, 0].mean(),
                                            "p50": np.median(res["mrr"][:, 0])}, rel=1e-12)
    assert s["p_break_by_month"] == {str(m): pytest.approx(res.p_break_by(m).value)
                                     for m in (12, 36, 60)}
    assert s["mrr_final"]["mean"] == pytest.approx(res["mrr"][:, -1].mean(), rel=1e-12)
    assert s["time_to_threshold_ci95"] == {
        key: [res.time_quantile(p).low, res.time_quantile(p).high]
        for key, p in (("median", 0.5), ("p10", 0.1), ("p25", 0.25), ("p75", 0.75),
                       ("p90", 0.9))}
    assert s["p_insolvent_by_horizon"] == 0.0
    assert s["p_insolvent_by_horizon_ci95"] == [0.0, pytest.approx(wilson_high_of_none(300))]
    assert s["at_horizon"] == res.at_horizon()
    assert s["config_sha256"] == config_sha256(res.config)


def wilson_high_of_none(n, z=1.959963984540054):
    """The upper end of Wilson's 95% interval for 0 successes in n: z^2 / (n + z^2)."""
    return z * z / (n + z * z)


def test_summary_months_within_horizon_only():
    s = make_result(SMALL, months=24).summary()
    assert set(s["mrr_at_month"]) == {"12"}


def test_config_sha256_depends_on_config():
    a = config_from_dict({"churn": {"annual_rate": 0.1}})
    b = config_from_dict({"churn": {"annual_rate": 0.11}})
    assert config_sha256(a) == config_sha256(config_from_dict({"churn": {"annual_rate": 0.1}}))
    assert config_sha256(a) != config_sha256(b)


def test_format_summary():
    """By hand: 5 of 8 paths break by month 2-6 (62.5%, Wilson 30.6-86.3%); the CDF
    reaches 1/2 at month 5 (4 of 8), its band's high side at 3 and its low side never;
    path i's MRR from its passage is 100,000 x (1 + 0.01 (t - f + i)) (make_result)."""
    res = make_result([2, 3, 4, 5, 6, -1, -1, -1], months=60)
    lines = res.format_summary().splitlines()
    chance = "62.5% (95% CI 30.6%-86.3%)"
    assert lines[:6] + lines[-4:] == [
        "8 paths x 60 months, seed 7, threshold $100,000 MRR",
        f"P(MRR >= $100,000 by month 12): {chance}",
        f"P(MRR >= $100,000 by month 36): {chance}",
        f"P(MRR >= $100,000 by month 60): {chance}",
        "Median time to $100,000: 5 months (95% CI 3-beyond horizon; not reached in 37.5% "
        "of paths)",
        "P(insolvent by month 60): 0.0% (95% CI 0.0%-32.4%)",
        "MRR p10 / p50 / p90:",
        "  month  12: $58,000 / $110,000 / $110,000",
        "  month  36: $74,000 / $134,000 / $134,000",
        "  month  60: $90,000 / $158,000 / $158,000"]
    assert lines[6].startswith("At month 60: median MRR $158,000 (62.5% of paths at or above "
                               "$100,000); pretax margin ")
    assert res.headline() == (
        "62% chance to break $100k MRR within 60 months (95% CI 31%\u201386%); median 5 "
        "months [3\u2013beyond 60]. 0.0% chance of running out of cash and credit by month 60 "
        "(95% CI 0.0%\u201332%)")
    # sustained for 3 months, one path insolvent in month 7; no path breaking
    sustained = SimulationResult(
        config=config_from_dict({"simulation": {"months": 60, "sustain_months": 3}}), seed=1,
        metrics=res.metrics, first_passage=res.first_passage,
        insolvency_month=[-1, -1, 7, -1, -1, -1, -1, -1])
    assert sustained.headline().startswith(
        "62% chance to break $100k MRR (sustained 3 months) within 60 months")
    assert sustained.headline().endswith(
        "12% chance of running out of cash and credit by month 60 (95% CI 2%\u201347%)")
    assert "threshold $100,000 MRR (sustained 3 months)" in sustained.format_summary()
    assert make_result([-1] * 5, months=12).headline() == (
        "0.0% chance to break $100k MRR within 12 months (95% CI 0.0%\u201343%); the median "
        "time is beyond month 12 (fewer than half of the paths break it). 0.0% chance of "
        "running out of cash and credit by month 12 (95% CI 0.0%\u201343%)")
    text = make_result(SMALL).format_summary()
    assert "month  10" in text  # horizon shown when 12/36/60 are beyond it


def test_format_summary_horizon_lines_show_the_horizon_block():
    """The two horizon lines carry the at-horizon block's figures, each in its slot and
    in order: cash p10 / p50 / p90; the owner's value p10 / p50 / p90, its worst 10%,
    the enterprise value, the exit multiple, the adjusted EBITDA and the cash's worst
    10% (docs/value.md). On the 8-path result the owner's three quantiles differ, so a
    slot showing another key's figure (or none: "n/a") is seen."""
    import re

    from simulator.formatting import money

    res = make_result([2, 3, 4, 5, 6, -1, -1, -1], months=60)
    end = res.at_horizon()
    lines = res.format_summary().splitlines()
    cash_line = lines[6].split("cash p10 / p50 / p90 ")[1]
    assert cash_line.split(" / ") == [money(end[f"cash_{q}"]) for q in ("p10", "p50", "p90")]
    owner = lines[7]
    assert owner.startswith("Owner's value (pay plus the sale at month 60, discounted")
    q = [end[f"owner_value_{k}"] for k in ("p10", "p50", "p90")]
    assert q[0] < q[1] < q[2]
    figures = re.findall(r"-?\$[0-9,]+|n/a", owner)
    assert figures == [money(v) for v in (*q, end["owner_value_cvar10"],
                                          end["enterprise_value_p50"],
                                          end["adjusted_ebitda_p50"], end["cash_cvar10"])]
    assert f"at {end['exit_multiple_p50']:.1f}x adjusted EBITDA" in owner


def test_headline_shows_a_finite_interval_of_the_median():
    """20 paths, all breaking, two in each of months 2-11 (no censoring): F(t) = (t - 1) /
    10, and the linear Greenwood band is F +- 1.96 sqrt(F (1 - F) / 20). The median is
    month 6 (F = 0.5); the band's high side first reaches 0.5 at month 4 (0.3 + 0.201),
    its low side at month 9 (0.8 - 0.175; month 8 gives 0.7 - 0.201 = 0.499): [4-9]."""
    res = make_result([2, 3, 4, 5, 6, 7, 8, 9, 10, 11] * 2, months=24)
    assert "; median 6 months [4\u20139]. " in res.headline()


@pytest.mark.skipif(not HAS_API, reason="simulator.api not available")
def test_real_engine_result():
    from simulator.api import simulate

    config = config_from_dict({
        "simulation": {"months": 36, "paths": 200, "seed": 11, "threshold_mrr": 60_000,
                       "sustain_months": 1},
        "start": {"customers": 15, "techs": 3},
    })
    res = simulate(config, n_paths=200)
    assert isinstance(res, SimulationResult)
    assert res.n_paths == 200 and res.months == 36
    assert set(METRICS) <= set(res.metrics)
    # first passage consistent with the MRR trajectories (sustain_months = 1)
    above = res["mrr"] >= res.threshold_mrr
    expected = np.where(above.any(axis=1), above.argmax(axis=1), -1)
    np.testing.assert_array_equal(res.first_passage, expected)
    s = res.summary()
    json.dumps(s, allow_nan=False)
    assert s["p_break_by_horizon"] == pytest.approx(np.mean(expected >= 0))
    assert res.params is not None and "churn_annual_rate" in res.params.dtype.names


def test_quantiles_memo_matches_numpy_in_any_request_order():
    # The memo computes each (metric, q) once, on two threads; every request
    # must equal np.quantile on the trajectories, whatever was asked before.
    cfg = config_from_dict({"simulation": {"months": 12}})
    res = simulate(cfg, n_paths=500, seed=3)
    first = res.quantiles((0.5,), metrics=["mrr"])["mrr"]
    full = res.quantiles()
    again = res.quantiles((0.95, 0.5), metrics=["mrr", "cash"])
    for name, table in full.items():
        expected = np.quantile(np.asarray(res[name]), DEFAULT_QUANTILES, axis=0)
        np.testing.assert_array_equal(table, expected)
    np.testing.assert_array_equal(first[0], full["mrr"][DEFAULT_QUANTILES.index(0.5)])
    np.testing.assert_array_equal(again["cash"][0], full["cash"][DEFAULT_QUANTILES.index(0.95)])


def test_trajectories_are_read_only():
    cfg = config_from_dict({"simulation": {"months": 6}})
    res = simulate(cfg, n_paths=20, seed=1)
    with pytest.raises(ValueError, match="read-only"):
        res["mrr"][0, 0] = 1.0
    # the kept means (computed once a metric) are numpy's, and a caller's copy
    mean = res.mean("cash")
    np.testing.assert_array_equal(mean, np.asarray(res["cash"]).mean(axis=0))
    mean[:] = np.nan
    np.testing.assert_array_equal(res.mean("cash"), np.asarray(res["cash"]).mean(axis=0))


@pytest.mark.parametrize("n", [1, 2, 3, 15, 16, 17, 100, 1001, 10_000])
def test_column_quantiles_equal_numpys(n):
    """The quantile kernel gives np.quantile's numbers bit for bit (ties, constants,
    sorted and reversed columns, extreme ranges, any q; a NaN is left to numpy)."""
    from simulator.engine import column_quantiles
    from simulator.results import DEFAULT_QUANTILES

    rng = np.random.default_rng(n)
    columns = [
        rng.normal(size=(n, 5)),
        rng.lognormal(sigma=2.0, size=(n, 5)),
        rng.integers(0, 3, (n, 5)).astype(np.float64),
        np.zeros((n, 2)),
        np.sort(rng.random((n, 3)), axis=0),
        np.sort(rng.random((n, 3)), axis=0)[::-1],
        np.where(rng.random((n, 3)) < 0.9, 0.0, rng.random((n, 3))),
        rng.choice([-1e308, 0.0, 1e308, 5e-324], (n, 3)),
        rng.normal(size=(n, 30, 61))[:, 7],  # a metric's strided view
    ]
    for values in columns:
        for qs in (DEFAULT_QUANTILES, (0.0, 1.0, 0.5), tuple(rng.random(9))):
            with np.errstate(over="ignore", invalid="ignore"):  # (the +-1e308 columns)
                expected = np.quantile(values, qs, axis=0)
                got = column_quantiles(values, qs)
            np.testing.assert_array_equal(got, expected)
    with_nan = rng.normal(size=(n, 3))
    with_nan[n // 2, 1] = np.nan
    assert column_quantiles(with_nan, DEFAULT_QUANTILES) is None
