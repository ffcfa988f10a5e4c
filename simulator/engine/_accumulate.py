"""Compiled accumulation of per-month statistics over chunks of paths.

Private: used by :class:`simulator.monthly_stats.MonthlyStats`, which keeps
running moments and fixed-bin histograms of every metric and month when a
run is too large to keep every path's trajectory.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit_parallel, prange


@jit_parallel
def _accumulate(block, lo, inv_width, count, mean, m2, hist, vmin, vmax):
    """Fold a chunk ``block[path, metric, month]`` into the running statistics.

    Moments merge by Chan et al.'s pairwise update (the chunk's own mean and
    sum of squared deviations first); ``hist[m, t, 0]`` counts values below
    ``lo``, ``hist[m, t, -1]`` values at or above the last bin's edge.
    """
    n_paths, n_metrics, n_months = block.shape
    n_bins = hist.shape[2] - 2
    n_old = count[0]
    n_new = n_old + n_paths
    for m in prange(n_metrics):
        for t in range(n_months):
            s = 0.0
            for i in range(n_paths):
                s += block[i, m, t]
            mu = s / n_paths
            ss = 0.0
            lo_mt = lo[m, t]
            iw = inv_width[m, t]
            for i in range(n_paths):
                x = block[i, m, t]
                d = x - mu
                ss += d * d
                if x < vmin[m, t]:
                    vmin[m, t] = x
                if x > vmax[m, t]:
                    vmax[m, t] = x
                pos = (x - lo_mt) * iw
                if pos < 0.0:
                    hist[m, t, 0] += 1
                elif pos >= n_bins:
                    hist[m, t, n_bins + 1] += 1
                else:
                    hist[m, t, int(pos) + 1] += 1
            delta = mu - mean[m, t]
            mean[m, t] += delta * n_paths / n_new
            m2[m, t] += ss + delta * delta * n_old * n_paths / n_new
    count[0] = n_new


def accumulate(block: np.ndarray, lo, inv_width, count, mean, m2, hist, vmin, vmax) -> None:
    """Validated entry point of :func:`_accumulate` (all arrays updated in place)."""
    block = np.ascontiguousarray(block, dtype=np.float64)
    if block.ndim != 3 or hist.shape[:2] != block.shape[1:] or hist.shape[2] < 3:
        raise ValueError("block must be (paths, metrics, months) matching the statistics")
    _accumulate(block, lo, inv_width, count, mean, m2, hist, vmin, vmax)
