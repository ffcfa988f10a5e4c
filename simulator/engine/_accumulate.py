"""Compiled accumulation of per-month statistics over chunks of paths.

Private: used by :class:`simulator.monthly_stats.MonthlyStats`, which keeps
running sums and fixed-bin histograms of every metric and month when a run
is too large to keep every path's trajectory.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit_parallel, prange


@jit_parallel
def _accumulate(block, shift, lo, inv_width, sum1, sum2, hist, vmin, vmax):
    """Fold a chunk ``block[path, metric, month]`` into the running statistics.

    One pass: shifted sums ``sum1 += x - shift`` and ``sum2 += (x - shift)**2``
    (the shift, the first chunk's mean, keeps the variance formula free of
    cancellation); ``hist[m, t, 0]`` counts values below ``lo``,
    ``hist[m, t, -1]`` values at or above the last bin's right edge.
    """
    n_paths, n_metrics, n_months = block.shape
    n_bins = hist.shape[2] - 2
    for m in prange(n_metrics):
        sh, s1, s2, lo_m, iw = shift[m], sum1[m], sum2[m], lo[m], inv_width[m]
        mn, mx, hm = vmin[m], vmax[m], hist[m]
        for i in range(n_paths):  # one contiguous row block[i, m, :] at a time
            row = block[i, m]
            for t in range(n_months):
                x = row[t]
                d = x - sh[t]
                s1[t] += d
                s2[t] += d * d
                if x < mn[t]:
                    mn[t] = x
                if x > mx[t]:
                    mx[t] = x
                pos = (x - lo_m[t]) * iw[t]
                if pos < 0.0:
                    hm[t, 0] += 1
                elif pos >= n_bins:
                    hm[t, n_bins + 1] += 1
                else:
                    hm[t, int(pos) + 1] += 1


def accumulate(block: np.ndarray, shift, lo, inv_width, sum1, sum2, hist, vmin, vmax) -> None:
    """Validated entry point of :func:`_accumulate` (all arrays updated in place)."""
    block = np.ascontiguousarray(block, dtype=np.float64)
    if block.ndim != 3 or hist.shape[:2] != block.shape[1:] or hist.shape[2] < 3:
        raise ValueError("block must be (paths, metrics, months) matching the statistics")
    _accumulate(block, shift, lo, inv_width, sum1, sum2, hist, vmin, vmax)
