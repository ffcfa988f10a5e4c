"""Per-path parameter draws: distributions, slicing and quasi-random designs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulator.config.loader import config_from_dict
from simulator.model.sampling import (
    ALL_KEYS,
    PARAM_KEYS,
    draw_parameters,
    key_uniforms,
    param_dtype,
    path_seeds,
)

TABLES = {
    "uniform": {"dist": "uniform", "low": 4, "high": 8},
    "triangular": {"dist": "triangular", "low": 2, "mode": 3, "high": 9},
    "lognormal": {"dist": "lognormal", "median": 5, "sigma": 0.5, "high": 500},
    "normal": {"dist": "normal", "mean": 5, "sd": 1, "low": 2, "high": 9},
}


@pytest.mark.parametrize("name", list(TABLES))
def test_draws_follow_the_table_ks(name):
    # One-sample KS at significance 0.001 against the scipy distribution.
    cfg = config_from_dict({"sales": {"rep_meetings_per_month": TABLES[name]}})
    draws = draw_parameters(cfg, 5, 0, 5000)["sales_rep_meetings_per_month"]
    dist = cfg.sales.rep_meetings_per_month.frozen()
    # The lognormal is clipped at 500, which holds ~1e-19 of its mass: compare with the base.
    cdf = stats.lognorm(s=0.5, scale=5).cdf if name == "lognormal" else dist.cdf
    assert stats.kstest(draws, cdf).pvalue > 1e-3


def test_beta_table_mean_and_sd():
    cfg = config_from_dict({"churn": {"annual_rate": {"dist": "beta", "mean": 0.11, "sd": 0.02}}})
    draws = draw_parameters(cfg, 5, 0, 20_000)["churn_annual_rate"]
    # Mean within 4 standard errors; sd within 5% (its SE is ~0.5% here).
    assert abs(draws.mean() - 0.11) < 4 * 0.02 / np.sqrt(draws.size)
    assert abs(draws.std() / 0.02 - 1) < 0.05


def test_scalars_and_integers():
    cfg = config_from_dict({"start": {"customers": {"dist": "uniform", "low": 2, "high": 9}},
                            "sales": {"reps": 2}})
    p = draw_parameters(cfg, 1, 0, 20_000)
    assert p.dtype == param_dtype() and len(p.dtype.names) == len(PARAM_KEYS)
    assert np.all(p["sales_reps"] == 2)
    # an integer key is its draw rounded to the nearest integer (docs/model.md), not
    # truncated: exactly rint(2 + 7 u) of the key's own uniforms ...
    u = key_uniforms(1, "start.customers", 0, 20_000)
    np.testing.assert_array_equal(p["start_customers"], np.rint(2 + 7 * u))
    # ... so the end points hold half the mass of the others: 1/14, 1/7 x 6, 1/14
    counts = np.bincount(p["start_customers"].astype(int) - 2, minlength=8)
    expected = 20_000 * np.array([0.5, 1, 1, 1, 1, 1, 1, 0.5]) / 7
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    assert p["start_customers"].min() == 2 and p["start_customers"].max() == 9


def test_slices_equal_the_whole_run_and_scenarios_share_uniforms():
    cfg = config_from_dict({"churn": {"annual_rate": {"dist": "uniform", "low": 0.1, "high": 0.2}}})
    whole = draw_parameters(cfg, 9, 0, 500)
    np.testing.assert_array_equal(draw_parameters(cfg, 9, 120, 377), whole[120:377])
    other = config_from_dict({"churn": {"annual_rate": {"dist": "uniform", "low": 0.0,
                                                        "high": 0.4}}})
    # Common random numbers: the same uniform, mapped through another table.
    u = (whole["churn_annual_rate"] - 0.1) / 0.1
    np.testing.assert_allclose(draw_parameters(other, 9, 0, 500)["churn_annual_rate"],
                               0.4 * u, rtol=1e-12, atol=1e-15)
    assert len(ALL_KEYS) > len(PARAM_KEYS)  # per-unit keys are drawn in the engine


def test_sobol_is_balanced():
    cfg = config_from_dict({"simulation": {"sampling": "sobol"},
                            "churn": {"annual_rate": {"dist": "uniform", "low": 0, "high": 0.5}}})
    draws = draw_parameters(cfg, 2, 0, 1024)["churn_annual_rate"] / 0.5
    # A scrambled Sobol' net of 2^10 points puts exactly 4 points in each of 256 bins.
    counts = np.bincount(np.floor(draws * 256).astype(int), minlength=256)
    assert np.all(counts == 4)


def test_path_seeds_are_prefix_stable_and_distinct():
    a = path_seeds(1, 0, 10_000)
    np.testing.assert_array_equal(path_seeds(1, 500, 600), a[500:600])
    assert a.dtype == np.uint64
    assert len(np.unique(a)) == a.size  # 64-bit words: ~3e-12 collisions expected


def test_latin_hypercube_is_stratified_and_sliced_from_the_whole_run():
    cfg = config_from_dict({"simulation": {"sampling": "lhs"},
                            "churn": {"annual_rate": {"dist": "uniform", "low": 0, "high": 0.5}},
                            "sales": {"close_rate": {"dist": "uniform", "low": 0.2, "high": 0.6}}})
    whole = draw_parameters(cfg, 4, 0, 400, 400)
    # one point in each of the 400 equal strata of every key
    for key, low, high in (("churn_annual_rate", 0, 0.5), ("sales_close_rate", 0.2, 0.6)):
        strata = np.floor((whole[key] - low) / (high - low) * 400).astype(int)
        np.testing.assert_array_equal(np.sort(strata), np.arange(400))
    # a slice of paths is the whole run's design, sliced; another seed, another design
    np.testing.assert_array_equal(draw_parameters(cfg, 4, 100, 250, 400), whole[100:250])
    other = draw_parameters(cfg, 5, 0, 400, 400)["churn_annual_rate"]
    assert not np.array_equal(other, whole["churn_annual_rate"])
    # a scrambled Sobol' design moves with the seed as well (unscrambled, it starts at 0)
    sobol = config_from_dict({"simulation": {"sampling": "sobol"},
                              "churn": {"annual_rate": {"dist": "uniform", "low": 0,
                                                        "high": 0.5}}})
    a, b = (draw_parameters(sobol, s, 0, 64)["churn_annual_rate"] for s in (1, 2))
    assert not np.array_equal(a, b) and a.min() > 0 and b.min() > 0
    np.testing.assert_array_equal(draw_parameters(sobol, 1, 0, 64)["churn_annual_rate"], a)


def test_a_washout_rep_books_a_uniform_share_of_the_firing_line():
    """sales.rep_washout: u < washout share washes out, at (u / share) x fire_below of plan."""
    cfg = config_from_dict({"sales": {"rep_washout_share": 0.4, "rep_fire_below": 0.5,
                                      "rep_productivity": 0.9}})
    p = draw_parameters(cfg, 3, 0, 2000)
    u = key_uniforms(3, "sales.rep_washout", 0, 2000)
    np.testing.assert_allclose(p["sales_rep_productivity"],
                               np.where(u < 0.4, u / 0.4 * 0.5, 0.9), rtol=1e-12)
    assert 0.3 < np.mean(p["sales_rep_productivity"] < 0.5) < 0.5


def test_per_unit_tables_and_run_inputs():
    from simulator.model.sampling import PPF_TABLE_SIZE, ppf_table, prepare

    cfg = config_from_dict({
        "customers": {"seats": {"dist": "triangular", "low": 2, "mode": 8, "high": 40}},
        "churn": {"mode": "renewal"}, "alignment": {"enabled": True},
        "start": {"book": [{"seats": 10, "monthly_fee": 1500, "contract_month": 7},
                           {"seats": 4, "monthly_fee": 480}]}})
    # the inverse CDF at equally spaced probabilities, the ends moved in by half a step
    q = np.linspace(0, 1, 9)
    q[0], q[-1] = 0.5 / 9, 1 - 0.5 / 9
    table = ppf_table(cfg.customers.seats, size=9)
    np.testing.assert_allclose(table, stats.triang(6 / 38, loc=2, scale=38).ppf(q), rtol=1e-10)
    assert table.dtype == np.float64
    np.testing.assert_array_equal(ppf_table(7, size=5), np.full(5, 7.0))
    inputs = prepare(cfg)
    np.testing.assert_array_equal(inputs.seats_ppf, ppf_table(cfg.customers.seats))
    assert inputs.seats_ppf.size == PPF_TABLE_SIZE
    np.testing.assert_array_equal(inputs.project_size_ppf, ppf_table(cfg.projects.size))
    assert inputs.churn_at_renewal is True and inputs.alignment_enabled is True
    # today's book: (seats, price per seat, contract month) a client
    np.testing.assert_array_equal(inputs.book, [[10, 150, 7], [4, 120, 0]])
    assert inputs.book.dtype == np.float64
    plain = prepare(config_from_dict({}))
    assert plain.churn_at_renewal is False and plain.alignment_enabled is False
    assert plain.book.shape == (0, 3)
