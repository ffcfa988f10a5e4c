"""simulator.estimates and the tables' ppf: the same numbers as scipy.stats, bit for bit."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from simulator.config.distributions import parse_distribution
from simulator.estimates import kaplan_meier, wilson_interval

TABLES = [
    {"dist": "uniform", "low": 0.08, "high": 0.15},
    {"dist": "uniform", "low": -3.0, "high": 1e6},
    {"dist": "triangular", "low": 160.0, "mode": 200.0, "high": 240.0},
    {"dist": "triangular", "low": 0.1, "mode": 0.1, "high": 0.3},
    {"dist": "triangular", "low": 2.0, "mode": 6.0, "high": 6.0},
    {"dist": "lognormal", "median": 22.0, "sigma": 0.6, "low": 3.0, "high": 200.0},
    {"dist": "lognormal", "median": 4000.0, "sigma": 0.8},
    {"dist": "lognormal", "median": 1.5, "sigma": 2.0, "high": 40.0},
    {"dist": "normal", "mean": 1.0, "sd": 0.5, "low": 0.0},
    {"dist": "beta", "mean": 0.3, "sd": 0.1},
]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t["dist"])
def test_ppf_is_scipys(table):
    dist = parse_distribution(table)
    rng = np.random.default_rng(7)
    q = np.concatenate([rng.random(20_000), np.linspace(0.5 / 4097, 1 - 0.5 / 4097, 4097),
                        [2.0**-53, 1 - 2.0**-53, 0.5]])
    expected = np.asarray(dist.frozen().ppf(q), dtype=np.float64)
    np.testing.assert_array_equal(dist.ppf(q), expected)
    # scipy's edge cases (q = 0, 1 or outside) are scipy's own
    edges = np.array([0.0, 0.25, 1.0])
    np.testing.assert_array_equal(dist.ppf(edges), dist.frozen().ppf(edges))
    assert dist.mean() == float(dist.frozen().mean())


def _scipy_km(uncensored, right):
    return stats.ecdf(stats.CensoredData(uncensored=uncensored, right=right))


@pytest.mark.parametrize("case", ["censored", "none censored", "all censored", "ties"])
def test_kaplan_meier_is_scipys(case):
    rng = np.random.default_rng(3)
    fp = rng.integers(-1, 61, 5000)
    if case == "none censored":
        fp = np.abs(fp)
    elif case == "all censored":
        fp[:] = -1
    elif case == "ties":
        fp = rng.choice([-1, 60, 12], 3000)
    hit = fp >= 0
    unc = fp[hit].astype(np.float64)
    right = np.full(int((~hit).sum()), 60.0)
    km = kaplan_meier(unc, right)
    ref = _scipy_km(unc, right)
    np.testing.assert_array_equal(km.times, ref.cdf.quantiles)
    np.testing.assert_array_equal(km.cdf, ref.cdf.probabilities)
    np.testing.assert_array_equal(km.sf, ref.sf.probabilities)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "undefined at some observations" (NaN, kept)
        ci = ref.cdf.confidence_interval(0.95)
    low, high = km.cdf_band(0.95)
    np.testing.assert_array_equal(low, ci.low.probabilities)
    np.testing.assert_array_equal(high, ci.high.probabilities)


@pytest.mark.parametrize("n", [1, 7, 100, 10_000, 1_000_000])
def test_wilson_is_scipys(n):
    for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        if not 0 <= k <= n:
            continue
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n, 0.95) == (float(ci.low), float(ci.high))


def test_run_imports_no_scipy_stats(tmp_path):
    """A run (config, parameter draws, engine, summary) leaves scipy.stats unimported."""
    code = ("import sys, simulator\n"
            "from simulator.api import simulate\n"
            "cfg = simulator.load_config('configs/baseline.toml')\n"
            "res = simulate(cfg, n_paths=64, progress=False)\n"
            "res.summary()\n"
            "assert 'scipy.stats' not in sys.modules, 'scipy.stats imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True,
                   cwd=Path(__file__).resolve().parents[1])
