"""The engine's generator and samplers against scipy.stats (goodness of fit).

Each test draws a fixed-seed sample and rejects at significance 0.001: a
correct sampler fails one of these tests with probability under 1% for a
random seed (about ten tests); the seeds here are fixed, so the suite is
deterministic.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from simulator.engine import _random

ALPHA = 1e-3


@numba.njit
def _draw(kind, param, seed, n, trials=0):
    state = np.empty(4, dtype=np.uint64)
    _random.seed_state(state, seed)
    out = np.empty(n)
    for k in range(n):
        if kind == 0:
            out[k] = _random.uniform(state)
        elif kind == 2:
            out[k] = _random.poisson(state, param)
        elif kind == 3:
            out[k] = _random.geometric0(state, param)
        elif kind == 5:
            out[k] = _random.binomial(state, trials, param)
        else:
            out[k] = _random.randint(state, 1, int(param) + 1)
    return out


def _chi2_discrete(sample: np.ndarray, pmf, support_max: int) -> float:
    """Chi-square p-value of integer draws against a pmf, pooling sparse tails."""
    counts = np.bincount(sample.astype(np.int64), minlength=support_max + 1)
    probs = pmf(np.arange(counts.size))
    probs[-1] += max(0.0, 1.0 - probs.sum())  # the tail beyond the last count
    expected = probs * sample.size
    keep = expected >= 5
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    if exp[-1] < 5:  # fold a small pooled cell into the last kept one
        obs[-2] += obs[-1]
        exp[-2] += exp[-1]
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


def test_xoshiro256starstar_reference_output():
    # First outputs for the state {1, 2, 3, 4} (reference implementation).
    state = np.array([1, 2, 3, 4], dtype=np.uint64)
    out = [int(_random.next_u64(state)) for _ in range(3)]
    assert out == [11520, 0, 1509978240]


def test_uniform_ks():
    sample = _draw(0, 0.0, 1, 100_000)
    assert sample.min() >= 0.0 and sample.max() < 1.0
    assert stats.kstest(sample, "uniform").pvalue > ALPHA


@pytest.mark.parametrize("lam", [0.3, 2.0, 7.5, 9.99, 10.0, 45.0, 600.0])
def test_poisson_chi_square(lam):
    sample = _draw(2, lam, 3, 60_000)
    dist = stats.poisson(lam)
    top = int(dist.ppf(1 - 1e-9))
    assert _chi2_discrete(sample, dist.pmf, top) > ALPHA
    # mean within 4 standard errors
    assert abs(sample.mean() - lam) < 4 * np.sqrt(lam / sample.size)


@pytest.mark.parametrize("p", [0.2, 0.5, 1.0])
def test_geometric_chi_square(p):
    sample = _draw(3, p, 4, 40_000)
    if p == 1.0:
        assert np.all(sample == 0)
        return
    dist = stats.geom(p, loc=-1)  # failures before the first success
    assert _chi2_discrete(sample, dist.pmf, int(dist.ppf(1 - 1e-9))) > ALPHA


@pytest.mark.parametrize(("trials", "p"), [(1, 0.3), (8, 0.0107), (25, 0.04), (12, 0.5),
                                          (40, 0.93), (200, 0.4), (300, 0.01)])
def test_binomial_chi_square(trials, p):
    # inversion (n min(p, 1 - p) <= 30, either side of 1/2) and one uniform a trial
    sample = _draw(5, p, 5, 60_000, trials)
    assert sample.min() >= 0 and sample.max() <= trials
    dist = stats.binom(trials, p)
    if dist.pmf(0) < 1 - 1e-12:
        assert _chi2_discrete(sample, dist.pmf, trials) > ALPHA
    assert abs(sample.mean() - trials * p) < 4 * np.sqrt(trials * p * (1 - p) / sample.size)


def test_binomial_edges():
    assert np.all(_draw(5, 0.0, 6, 100, 9) == 0) and np.all(_draw(5, 1.0, 6, 100, 9) == 9)
    assert np.all(_draw(5, 0.5, 6, 100, 0) == 0)


def test_randint_uniform_over_the_range():
    sample = _draw(4, 36.0, 5, 36_000)
    counts = np.bincount(sample.astype(int), minlength=37)[1:]
    assert counts.sum() == sample.size  # nothing outside 1..36
    assert stats.chisquare(counts).pvalue > ALPHA


def test_seeds_give_independent_streams():
    a, b = _draw(0, 0.0, 10, 20_000), _draw(0, 0.0, 11, 20_000)
    assert not np.array_equal(a, b)
    assert abs(stats.pearsonr(a, b).statistic) < 4 / np.sqrt(a.size)
    np.testing.assert_array_equal(a, _draw(0, 0.0, 10, 20_000))


def test_log_factorial_against_gammaln():
    # The table below 10 and Stirling's series above, against scipy's log-gamma.
    from scipy.special import gammaln

    ks = np.concatenate([np.arange(0, 200), np.geomspace(200, 1e9, 400).astype(np.int64)])
    got = np.array([_random.log_factorial(int(k)) for k in ks])
    np.testing.assert_allclose(got, gammaln(ks + 1.0), rtol=4e-15, atol=1e-15)
