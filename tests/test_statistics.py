"""Every statistic the reports print, against its textbook definition.

The project takes its estimators from scipy.stats; these tests hold the
project's use of them (confidence level, censoring convention, which sample
goes in, which side is which) to the formulas written out by hand:

- Wilson score interval (Wilson 1927; Agresti and Coull 1998, eq. 2);
- Kaplan-Meier product-limit estimate and Greenwood's variance, with the
  pointwise linear 95% band, and the time quantiles read off it;
- the paired t interval of a mean difference;
- the exact McNemar test (binomial on the discordant pairs);
- Sobol' first-order and total indices on a function whose indices are known,
  with their bootstrap intervals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from simulator.analysis.paired import paired_difference
from simulator.results.survival import TimeToThreshold
from simulator.results.survival import proportion as _proportion
from simulator.results.survival import proportion as _wilson  # the convergence rule's too

Z95 = stats.norm.ppf(0.975)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 10), (37, 100), (500, 1000), (999, 1000),
                                      (10, 10), (3, 4000)])
def test_wilson_interval_is_the_95_percent_score_interval(k, n):
    est = _proportion(k, n)
    low, high = wilson(k, n)
    assert est.value == k / n
    assert est.low == pytest.approx(low, abs=1e-12)
    assert est.high == pytest.approx(high, abs=1e-12)
    value, low2, high2 = _wilson(k, n)  # the convergence rule's copy
    assert (value, low2, high2) == pytest.approx((k / n, low, high), abs=1e-12)


def test_p_break_by_a_month_is_the_share_broken_by_then_with_its_wilson_interval():
    from simulator.api import simulate
    from simulator.config import config_from_dict

    cfg = config_from_dict({"simulation": {"months": 24, "threshold_mrr": 60_000},
                            "start": {"customers": 16, "techs": 4}})
    run = simulate(cfg, n_paths=500, seed=4, progress=False)
    fp = run.first_passage
    for month in (6, 12, 24):
        k = int(np.count_nonzero((fp >= 0) & (fp <= month)))
        est = run.p_break_by(month)
        assert est.value == k / 500
        assert (est.low, est.high) == pytest.approx(wilson(k, 500), abs=1e-12)
    assert 0 < np.count_nonzero(fp >= 0) < 500


def kaplan_meier(times: np.ndarray, event: np.ndarray):
    """Product-limit S(t) at each distinct event time and Greenwood's variance of it;
    censored at t counts as at risk at t (censoring after events)."""
    out_t, out_s, out_var = [], [], []
    s, acc = 1.0, 0.0
    for t in np.unique(times[event]):
        n = np.count_nonzero(times >= t)
        d = np.count_nonzero((times == t) & event)
        s *= 1 - d / n
        acc += d / (n * (n - d)) if n > d else np.inf
        out_t.append(t)
        out_s.append(s)
        out_var.append(s * s * acc)
    return np.array(out_t), np.array(out_s), np.array(out_var)


def test_kaplan_meier_greenwood_band_and_quantiles_by_hand():
    rng = np.random.default_rng(3)
    months = 36
    fp = np.where(rng.random(400) < 0.6, rng.integers(0, months + 1, 400), -1)
    ttt = TimeToThreshold.from_first_passage(fp, months)
    event = fp >= 0
    times = np.where(event, fp, months).astype(float)
    t, s, var = kaplan_meier(times, event)
    np.testing.assert_array_equal(ttt.times, t)
    np.testing.assert_allclose(ttt.cdf_values, 1 - s, rtol=0, atol=1e-12)
    low, high = ttt.confidence_band()
    np.testing.assert_allclose(low, np.clip(1 - s - Z95 * np.sqrt(var), 0, 1), atol=1e-12)
    np.testing.assert_allclose(high, np.clip(1 - s + Z95 * np.sqrt(var), 0, 1), atol=1e-12)
    # no censoring before the horizon: the estimate is the empirical CDF
    np.testing.assert_allclose(ttt.cdf(t), [np.mean(event & (fp <= x)) for x in t], atol=1e-12)
    assert ttt.censored_fraction == np.mean(~event)
    # a step function: 0 before the first event, between events the last step's value
    assert ttt.cdf(-1) == 0.0 and ttt.cdf(t[-1] + 0.5) == ttt.cdf_values[-1]
    np.testing.assert_array_equal(ttt.cdf(t[1:] - 0.5), 1 - s[:-1])
    band_low, band_high = ttt.cdf_band(np.concatenate(([-1.0], t, t[1:] - 0.5)))
    np.testing.assert_array_equal(band_low, np.concatenate(([0.0], low, low[:-1])))
    np.testing.assert_array_equal(band_high, np.concatenate(([0.0], high, high[:-1])))
    # the month by which half broke: first month the CDF reaches 0.5; its interval from
    # the band's sides
    q = ttt.quantile(0.5)
    assert q.value == t[np.argmax(1 - s >= 0.5)]
    assert q.low == t[np.argmax(1 - s + Z95 * np.sqrt(var) >= 0.5)]
    assert q.high == t[np.argmax(1 - s - Z95 * np.sqrt(var) >= 0.5)]
    assert q.low <= q.value <= q.high


def test_paired_difference_is_the_paired_t_interval_and_mcnemar():
    rng = np.random.default_rng(8)
    a = rng.normal(10.0, 3.0, 300)
    b = a + rng.normal(0.4, 1.0, 300)
    got = paired_difference(a, b, binary=False)
    d = b - a
    se = d.std(ddof=1) / math.sqrt(d.size)
    tq = stats.t.ppf(0.975, d.size - 1)
    assert got["value"] == pytest.approx(d.mean(), rel=1e-12)
    assert got["ci95"] == pytest.approx([d.mean() - tq * se, d.mean() + tq * se], rel=1e-10)
    tstat = d.mean() / se
    assert got["p_value"] == pytest.approx(2 * stats.t.sf(abs(tstat), d.size - 1), rel=1e-8)
    # a chance: 30 paths gain, 12 lose, the rest agree. Exact McNemar: two-sided
    # binomial tail of the discordant pairs, 2 sum_{i <= 12} C(42, i) / 2^42
    x = np.zeros(500)
    y = np.zeros(500)
    y[:30] = 1
    x[30:42] = 1
    x[100:300] = y[100:300] = 1
    got = paired_difference(x, y, binary=True)
    p = 2 * sum(special.comb(42, i, exact=True) for i in range(13)) / 2 ** 42
    assert got["value"] == pytest.approx(18 / 500)
    assert got["p_value"] == pytest.approx(p, rel=1e-10)
    assert got["ci95"][0] < 18 / 500 < got["ci95"][1]
    # no discordant pair: nothing to test
    assert paired_difference(x, x, binary=True)["p_value"] == 1.0


def test_sobol_indices_and_intervals_on_a_known_function():
    """f = x1 + 2 x2 + 0 x3 with x ~ U(0, 1): variances 1/12, 4/12, 0, so the first-order
    and total indices are 0.2, 0.8, 0 (additive: both the same). The project's
    bootstrap intervals (percentile, over the base rows) contain them."""
    from simulator.analysis.sobol import bootstrap_indices as _bootstrap

    n, d = 1024, 3
    design = stats.qmc.Sobol(2 * d, scramble=True, rng=np.random.default_rng(1)).random(n)
    A, B = design[:, :d], design[:, d:]
    weights = np.array([1.0, 2.0, 0.0])

    def f(x):
        return x @ weights

    f_a, f_b = f(A)[None, :], f(B)[None, :]
    f_ab = np.stack([f(np.where(np.arange(d) == i, B, A)) for i in range(d)])[:, None, :]
    res = stats.sobol_indices(func={"f_A": f_a, "f_B": f_b, "f_AB": f_ab}, n=n)
    truth = np.array([0.2, 0.8, 0.0])
    np.testing.assert_allclose(res.first_order, truth, atol=0.03)
    np.testing.assert_allclose(res.total_order, truth, atol=0.03)
    low, high = _bootstrap(f_a, f_b, f_ab, np.random.default_rng(2), 499)
    first_low, first_high = low[0, 0], high[0, 0]
    total_low, total_high = low[1, 0], high[1, 0]
    assert np.all(first_low[:2] <= truth[:2]) and np.all(truth[:2] <= first_high[:2])
    assert np.all(total_low[:2] <= truth[:2]) and np.all(truth[:2] <= total_high[:2])
    assert np.all(first_high - first_low < 0.2)
    assert total_low[2] == total_high[2] == 0.0  # no effect: exactly 0
