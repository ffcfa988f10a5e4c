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
