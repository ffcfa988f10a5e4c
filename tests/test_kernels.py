"""The engine's small compiled helpers against plain NumPy references."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from simulator.config.distributions import LognormalDist, TriangularDist
from simulator.engine import _kernel, _mechanisms, _random
from simulator.model.sampling import ppf_table


def naive_first_passage(mrr: np.ndarray, threshold: float, sustain: int) -> int:
    above = mrr >= threshold
    for t in range(mrr.size):
        if t + 1 >= sustain and above[t + 1 - sustain: t + 1].all():
            return t
    return -1


def _passage(mrr, threshold: float, sustain: int) -> int:
    """The kernel's first passage of one path's MRR (its ``(month, metric)`` block)."""
    block = np.zeros((len(mrr), len(_kernel.METRIC_NAMES)))
    block[:, _kernel.METRIC_NAMES.index("mrr")] = mrr
    return _kernel._first_passage(block, threshold, sustain)


@pytest.mark.parametrize("sustain", [1, 2, 3, 7])
def test_first_passage_matches_naive(sustain):
    rng = np.random.default_rng(0)
    for _ in range(300):
        mrr = rng.uniform(80, 120, size=rng.integers(1, 40))
        assert _passage(mrr, 100.0, sustain) == naive_first_passage(
            mrr, 100.0, sustain)


def test_first_passage_counts_month_zero_and_equality():
    assert _passage(np.array([100.0, 0.0]), 100.0, 1) == 0
    assert _passage(np.array([99.0, 100.0, 100.0]), 100.0, 2) == 2
    assert _passage(np.array([101.0, 99.0, 101.0]), 100.0, 2) == -1


@numba.njit
def _table_draws(table, seed, n):
    state = np.empty(4, dtype=np.uint64)
    _random.seed_state(state, seed)
    out = np.empty(n)
    for k in range(n):
        out[k] = _mechanisms.draw_from_table(state, table)
    return out


@numba.njit
def _uniforms(seed, n):
    state = np.empty(4, dtype=np.uint64)
    _random.seed_state(state, seed)
    out = np.empty(n)
    for k in range(n):
        out[k] = _random.uniform(state)
    return out


def test_table_draw_is_linear_interpolation_of_the_table():
    table = ppf_table(TriangularDist(dist="triangular", low=1.0, mode=2.0, high=9.0))
    draws = _table_draws(table, 123, 1000)
    u = _uniforms(123, 1000)  # the same stream: one uniform per draw
    expected = np.interp(u * (table.size - 1), np.arange(table.size), table)
    np.testing.assert_allclose(draws, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "dist",
    [
        TriangularDist(dist="triangular", low=1.0, mode=2.0, high=9.0),
        LognormalDist(dist="lognormal", median=20.0, sigma=0.6),
    ],
)
def test_table_draws_follow_the_distribution_ks(dist):
    # KS test at significance 0.001 (fixed seed): the 4097-point table's
    # interpolation error is far below what 20k draws can detect.
    draws = _table_draws(ppf_table(dist), 99, 20_000)
    result = stats.kstest(draws, dist.frozen().cdf)
    assert result.pvalue > 1e-3, result


def test_run_chunk_writes_into_a_given_array_and_checks_it():
    from simulator.config.loader import config_from_dict
    from simulator.engine import new_output, run_chunk
    from simulator.model import sampling

    cfg = config_from_dict({"simulation": {"months": 8}})
    run = sampling.prepare(cfg)
    params = sampling.draw_parameters(cfg, 4, 0, 30)
    seeds = sampling.path_seeds(4, 0, 30)
    fresh, fp, im = run_chunk(params, seeds, run)
    target = new_output(30, 8)
    out, fp2, im2 = run_chunk(params, seeds, run, out=target)
    assert out is target
    np.testing.assert_array_equal(out, fresh)
    np.testing.assert_array_equal(fp2, fp)
    np.testing.assert_array_equal(im2, im)
    n_metrics = fresh.shape[1]
    for bad in (np.empty((30, n_metrics, 8)), np.empty((30, n_metrics, 9), dtype=np.float32),
                np.empty((30, 9, n_metrics)).transpose(0, 2, 1)):
        with pytest.raises(ValueError, match="out must be"):
            run_chunk(params, seeds, run, out=bad)
