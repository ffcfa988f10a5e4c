"""Chunked per-month statistics against NumPy on the whole sample."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.api import simulate
from simulator.config.loader import config_from_dict
from simulator.results.monthly_stats import MonthlyStats


def _chunks(rng, sizes, metrics=3, months=5, iid=False):
    # Non-i.i.d. chunks (a scale per chunk) push values outside the first
    # chunk's bins, which the moments and under/overflow counts must survive.
    return [rng.normal(100.0, 15.0, size=(n, metrics, months))
            * (1.0 if iid else rng.uniform(0.5, 2.0)) for n in sizes]


def test_streamed_quantiles_interpolate_inside_the_first_occupied_bin():
    """Values 0, 1, 2, 3 in 4 bins: the bins span [-1.5, 4.5) (the range widened by half
    on each side), width 1.5; counts 0, 2, 1, 1. The histogram's CDF is linear inside a
    bin: 0 at x = 0 rising to 1/2 at 1.5 (the bin holding 0 and 1), 3/4 at 3, 1 at 4.5;
    then clipped to the observed [0, 3]. So q = 0.1 -> 0.3, 0.25 -> 0.75, 0.5 -> 1.5,
    0.75 -> 3."""
    stats = MonthlyStats.from_first_chunk(("a",), np.array([[[x]] for x in (0.0, 1.0, 2.0,
                                                                         3.0)]), bins=4)
    np.testing.assert_array_equal(stats.hist[0, 0], [0, 0, 2, 1, 1, 0])
    np.testing.assert_allclose(stats.quantiles_of("a", [0.0, 0.1, 0.25, 0.5, 0.75, 1.0])[:, 0],
                               [0.0, 0.3, 0.75, 1.5, 3.0, 3.0], rtol=1e-12)


def test_accumulation_matches_numpy_naive():
    rng = np.random.default_rng(0)
    chunks = _chunks(rng, [50, 7, 300, 1])
    stats = MonthlyStats.from_first_chunk(("a", "b", "c"), chunks[0], bins=64)
    for block in chunks[1:]:
        stats.add(block)
    whole = np.concatenate(chunks)
    assert stats.n == whole.shape[0]
    np.testing.assert_allclose(stats.mean, whole.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.std_of("b"), whole[:, 1].std(axis=0, ddof=1), rtol=1e-10)
    np.testing.assert_array_equal(stats.vmin, whole.min(axis=0))
    np.testing.assert_array_equal(stats.vmax, whole.max(axis=0))
    for m in range(3):
        for t in range(5):
            edges = stats.lo[m, t] + stats.width[m, t] * np.arange(65)
            x = whole[:, m, t]
            # Same binning rule as the kernel: floor((x - lo) / width).
            pos = np.floor((x - stats.lo[m, t]) * (1.0 / stats.width[m, t]))
            inside = (pos >= 0) & (pos < 64)
            expected = np.bincount(pos[inside].astype(int), minlength=64)
            np.testing.assert_array_equal(stats.hist[m, t, 1:-1], expected)
            assert stats.hist[m, t, 0] == np.count_nonzero(pos < 0)
            assert stats.hist[m, t, -1] == np.count_nonzero(pos >= 64)
            assert edges[0] == stats.lo[m, t]
    # the bins span each cell's range in the first chunk, widened by half on each side
    span = chunks[0].max(axis=0) - chunks[0].min(axis=0)
    np.testing.assert_allclose(stats.lo, chunks[0].min(axis=0) - 0.5 * span, rtol=1e-12)
    np.testing.assert_allclose(stats.width, 2 * span / 64, rtol=1e-12)
    assert stats.hist.dtype == np.int32
    # (a cell constant in the first chunk: a span of |value|, or 1 about 0)
    flat = MonthlyStats.from_first_chunk(("a",), np.array(
        [[[-3.0, 0.0, x]] for x in (0.0, 0.5, 0.25, 0.5)]), bins=8)
    np.testing.assert_allclose(flat.lo, [[-4.5, -0.5, -0.25]])
    np.testing.assert_allclose(flat.width, [[0.75, 0.25, 0.125]])
    # two paths: the standard deviation divides by n - 1 = 1; one path: 0
    two = MonthlyStats.from_first_chunk(("a", "b", "c"), chunks[0][:2], bins=8)
    np.testing.assert_allclose(two.std_of("a"), chunks[0][:2, 0].std(axis=0, ddof=1),
                               rtol=1e-10)
    one = MonthlyStats.from_first_chunk(("a", "b", "c"), chunks[0][:1], bins=8)
    np.testing.assert_array_equal(one.std_of("c"), 0.0)


def test_histogram_quantiles_within_one_bin():
    rng = np.random.default_rng(1)
    chunks = _chunks(rng, [400, 400, 400], iid=True)  # as a run's chunks are
    stats = MonthlyStats.from_first_chunk(("a", "b", "c"), chunks[0], bins=512)
    for block in chunks[1:]:
        stats.add(block)
    whole = np.concatenate(chunks)
    qs = np.array([0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])
    for k, name in enumerate(("a", "b", "c")):
        got = stats.quantiles_of(name, qs)
        # The histogram's CDF is exact at bin edges, so the estimate shares a bin with
        # the sample's q-quantile (between the atoms where the CDF reaches q and
        # q + 1/n): within one bin width, as the module promises.
        lo = np.quantile(whole[:, k], qs, axis=0, method="inverted_cdf")
        hi = np.quantile(whole[:, k], np.minimum(qs + 1 / len(whole), 1), axis=0,
                         method="inverted_cdf")
        width = stats.width[k]
        inside = (lo >= stats.lo[k]) & (hi <= stats.lo[k] + 512 * width)
        assert inside.mean() > 0.9
        assert np.all(((got >= lo - width) & (got <= hi + width))[inside]), name
        # and not leaning to one side of it: the signed distance to the band of valid
        # quantiles averages out (a bin too high gives about +0.5)
        offset = ((got - np.clip(got, lo, hi)) / width)[inside]
        assert abs(offset.mean()) < 0.15, offset.mean()
        # the ends are the exact extremes, and no quantile leaves them (the extreme
        # values sit inside their bins: linear interpolation alone would leave them)
        ends = stats.quantiles_of(name, [0.0, 1e-4, 1 - 1e-4, 1.0])
        np.testing.assert_array_equal(ends[0], whole[:, k].min(axis=0))
        np.testing.assert_array_equal(ends[3], whole[:, k].max(axis=0))
        assert np.all((ends[1:3] >= ends[0]) & (ends[1:3] <= ends[3]))


@pytest.fixture(scope="module")
def pair():
    cfg = config_from_dict({"start": {"customers": 15, "techs": 4},
                            "simulation": {"months": 24, "threshold_mrr": 60_000}})
    kept = simulate(cfg, n_paths=3000, seed=5, chunk_size=700)
    streamed = simulate(cfg, n_paths=3000, seed=5, chunk_size=700, keep_paths=False)
    return kept, streamed


def test_streamed_run_agrees_with_kept_run(pair):
    kept, streamed = pair
    assert kept.paths_kept and not streamed.paths_kept
    np.testing.assert_array_equal(kept.first_passage, streamed.first_passage)
    for name in ("mrr", "customers", "cash", "utilization"):
        np.testing.assert_allclose(streamed.mean(name), kept.mean(name), rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(streamed.std(name), kept.std(name), rtol=1e-8, atol=1e-9)
        # Any value between the sample's q-quantile atoms (CDF reaching q, and
        # reaching q + 1/n: they differ at ties, as with integer counts) is a
        # valid q-quantile; the histogram must land there to within one bin
        # width (as in test_histogram_quantiles_within_one_bin).
        qs = np.array([0.1, 0.5, 0.9])
        lo = np.quantile(kept[name], qs, axis=0, method="inverted_cdf")
        hi = np.quantile(kept[name], np.minimum(qs + 1.0 / kept.n_paths, 1.0), axis=0,
                         method="inverted_cdf")
        got = streamed.quantiles(tuple(qs), metrics=[name])[name]
        slack = streamed.stats.width[streamed.stats.names.index(name)] + 1e-9
        assert np.all((got >= lo - slack) & (got <= hi + slack)), name
    # P(MRR at or above the threshold): exact at the horizon (its values are kept), from the
    # histogram (to within a bin's mass) before it
    assert streamed.p_above_at(24) == kept.p_above_at(24)
    for month in (0, 6, 12, 18):
        assert abs(streamed.p_above_at(month) - kept.p_above_at(month)) < 0.01, month
    assert 0.05 < kept.p_above_at(12) < 0.95
    # the horizon's quantiles: from its kept values, the same numbers
    ends, kept_ends = streamed.at_horizon(), kept.at_horizon()
    for key in ("mrr_p50", "cash_p10", "cash_p50", "cash_p90"):
        assert ends[key] == kept_ends[key], key
    assert streamed.summary()["p_break_by_horizon"] == kept.summary()["p_break_by_horizon"]
    with pytest.raises(KeyError, match="unknown metric 'nope'"):
        streamed.stats.mean_of("nope")
    with pytest.raises(KeyError, match=r"kept no trajectories; use quantiles\(\), mean\(\) or "
                       r"std\(\) \(or simulate\(..., keep_paths=True\)\)"):
        streamed["mrr"]


def test_statistics_do_not_depend_on_chunking():
    cfg = config_from_dict({"start": {"customers": 10}, "simulation": {"months": 12}})
    a = simulate(cfg, n_paths=9000, seed=2, chunk_size=333, keep_paths=False)
    b = simulate(cfg, n_paths=9000, seed=2, chunk_size=4000, keep_paths=False)
    for field in ("shift", "sum1", "sum2", "carry1", "carry2", "hist", "lo", "width", "vmin",
                  "vmax"):
        np.testing.assert_array_equal(getattr(a.stats, field), getattr(b.stats, field))


def _reference_fold(rows: np.ndarray, shift: np.ndarray, align: int):
    """The fold's sums in plain Python: blocks of ``align`` paths from the first, each
    summed from zero in path order, the blocks' sums added in order."""
    n, metrics, months = rows.shape
    sum1 = [[0.0] * months for _ in range(metrics)]
    sum2 = [[0.0] * months for _ in range(metrics)]
    for m in range(metrics):
        for t in range(months):
            for b in range(0, n, align):
                c1 = c2 = 0.0
                for i in range(b, min(b + align, n)):
                    d = float(rows[i, m, t]) - float(shift[m, t])
                    c1 += d
                    c2 += d * d
                sum1[m][t] += c1
                sum2[m][t] += c2
    return np.array(sum1), np.array(sum2)


@pytest.mark.parametrize("sizes", [[50, 7, 300, 1], [64, 64], [10, 200, 3]])
def test_block_sums_match_a_plain_python_fold(sizes, monkeypatch):
    """The compiled fold against the reference, bit for bit, with blocks of 32 paths
    (so chunks end inside blocks and blocks span chunks)."""
    from simulator.results import monthly_stats

    monkeypatch.setattr(monthly_stats, "SUM_BLOCK_PATHS", 32)
    rng = np.random.default_rng(4)
    chunks = _chunks(rng, sizes)
    stats = MonthlyStats.from_first_chunk(("a", "b", "c"), chunks[0], bins=64)
    for block in chunks[1:]:
        stats.add(block)
    sum1, sum2 = _reference_fold(np.concatenate(chunks), stats.shift, 32)
    np.testing.assert_array_equal(stats.sum1 + stats.carry1, sum1)
    np.testing.assert_array_equal(stats.sum2 + stats.carry2, sum2)


@pytest.mark.parametrize("cuts", [[100, 164, 300, 301, 420], [96, 128, 224, 420], [420]])
def test_partials_merge_to_the_bits_of_a_local_fold(cuts, monkeypatch):
    """Paths folded in StatsPartials (as on Dask workers: ranges starting inside a block
    or on a boundary, run a few paths at a time) merge to the same bits as folding
    every path here."""
    from simulator.results import monthly_stats

    monkeypatch.setattr(monthly_stats, "SUM_BLOCK_PATHS", 32)
    rng = np.random.default_rng(7)
    rows = _chunks(rng, [420], iid=True)[0] * rng.uniform(0.5, 2.0, size=(420, 1, 1))
    local = MonthlyStats.from_first_chunk(("a", "b", "c"), rows[:64], bins=64)
    for a, b in ((64, 150), (150, 151), (151, 420)):
        local.add(rows[a:b])
    merged = MonthlyStats.from_first_chunk(("a", "b", "c"), rows[:64], bins=64)
    calls = []

    def simulate(a, b):
        calls.append(b - a)
        return rows[a:b]

    bounds = [64, *cuts]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        part = merged.empty().partial(a, b, simulate, max_paths=40)
        merged.merge(part)
    assert max(calls) <= 32  # whole blocks at a time, at most max_paths
    assert min(calls) > 0  # no call for an empty range of paths
    for field in ("count", "sum1", "sum2", "carry1", "carry2", "hist", "vmin", "vmax"):
        np.testing.assert_array_equal(getattr(merged, field), getattr(local, field),
                                      err_msg=field)
    # more paths a call: whole blocks (3 of 32 for 100), each block folded
    calls.clear()
    merged = MonthlyStats.from_first_chunk(("a", "b", "c"), rows[:64], bins=64)
    merged.merge(merged.empty().partial(64, 420, simulate, max_paths=100))
    assert calls == [96, 96, 96, 68]
    for field in ("count", "sum1", "sum2", "carry1", "carry2", "hist", "vmin", "vmax"):
        np.testing.assert_array_equal(getattr(merged, field), getattr(local, field),
                                      err_msg=field)
    # empty(): no path (zero sums and counts, no extremes), the same bins and shift
    empty = local.empty()
    assert empty.count == 0 and empty.names == local.names and np.any(local.sum1)
    for field in ("sum1", "sum2", "carry1", "carry2", "hist"):
        np.testing.assert_array_equal(getattr(empty, field), 0, err_msg=field)
    assert np.all(empty.vmin == np.inf) and np.all(empty.vmax == -np.inf)
    for field in ("shift", "lo", "width"):
        np.testing.assert_array_equal(getattr(empty, field), getattr(local, field))
    with pytest.raises(ValueError, match="merge in path order"):
        merged.merge(merged.empty().partial(500, 510, lambda a, b: rows[:10], 40))
