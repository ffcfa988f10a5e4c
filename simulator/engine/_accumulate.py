"""Compiled accumulation of per-month statistics over chunks of paths.

Private: used by :class:`simulator.results.monthly_stats.MonthlyStats`, which keeps
running sums and fixed-bin histograms of every metric and month when a run
is too large to keep every path's trajectory.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from ._threads import run_blocks


@jit
def _accumulate(block, first_metric, last_metric, position, align, shift, lo, inv_width,
                sum1, sum2, carry1, carry2, hist, vmin, vmax):
    """Fold a chunk ``block[path, metric, month]`` into the running statistics.

    One pass: shifted sums of ``x - shift`` and ``(x - shift)**2`` (the
    shift, the first chunk's mean, keeps the variance formula free of
    cancellation); ``hist[m, t, 0]`` counts values below ``lo``,
    ``hist[m, t, -1]`` values at or above the last bin's right edge.

    The sums are taken in blocks of ``align`` paths counted from the run's
    first path (``position``: the run's index of the chunk's first path): a
    block's sums start from zero in ``carry1``/``carry2`` and add its paths
    one by one in path order; when the block is full they are added to
    ``sum1``/``sum2`` and the carry starts again from zero. So the sums do not
    depend on the chunking or the number of threads, and a block summed
    elsewhere (a Dask worker) merges into the same bits.

    Metrics ``first_metric .. last_metric - 1`` (:func:`accumulate` runs
    them as tasks on the engine's threads); a metric's paths are taken in
    tiles of 16 (16 rows of ``months + 1`` values, ~8 KB, stay in L1) and,
    within a tile, month by month, so the month's running sums stay in
    registers and its histogram row is hot.
    """
    n_paths, _, n_months = block.shape
    n_bins = hist.shape[2] - 2
    tile = 16  # measured best of 4..256 on the project's VM (benchmarks/RESULTS.md)
    for m in range(first_metric, last_metric):
        sh, c1, c2, lo_m, iw = shift[m], carry1[m], carry2[m], lo[m], inv_width[m]
        s1, s2, mn, mx, hm = sum1[m], sum2[m], vmin[m], vmax[m], hist[m]
        start = 0
        while start < n_paths:
            # this block's rows of the chunk: up to the next multiple of `align`
            stop = min(n_paths, start + align - (position + start) % align)
            for first in range(start, stop, tile):
                last = min(first + tile, stop)
                for t in range(n_months):
                    a1, a2, sh_t, lo_t, iw_t = c1[t], c2[t], sh[t], lo_m[t], iw[t]
                    low, high, row = mn[t], mx[t], hm[t]
                    for i in range(first, last):
                        x = block[i, m, t]
                        d = x - sh_t
                        a1 += d
                        a2 += d * d
                        low = min(low, x)
                        high = max(high, x)
                        pos = (x - lo_t) * iw_t
                        if pos < 0.0:
                            row[0] += 1
                        elif pos >= n_bins:
                            row[n_bins + 1] += 1
                        else:
                            row[int(pos) + 1] += 1
                    c1[t], c2[t], mn[t], mx[t] = a1, a2, low, high
            if (position + stop) % align == 0:  # the block is full
                for t in range(n_months):
                    s1[t] += c1[t]
                    s2[t] += c2[t]
                    c1[t] = 0.0
                    c2[t] = 0.0
            start = stop


def accumulate(block: np.ndarray, position: int, align: int, shift, lo, inv_width, sum1, sum2,
               carry1, carry2, hist, vmin, vmax) -> None:
    """Validated entry point of :func:`_accumulate` (all arrays updated in place)."""
    block = np.ascontiguousarray(block, dtype=np.float64)
    if block.ndim != 3 or hist.shape[:2] != block.shape[1:] or hist.shape[2] < 3:
        raise ValueError("block must be (paths, metrics, months) matching the statistics")
    if align < 1 or position < 0:
        raise ValueError(f"align must be >= 1 and position >= 0, got {align}, {position}")

    def task(first: int, last: int) -> None:
        _accumulate(block, first, last, position, align, shift, lo, inv_width, sum1, sum2,
                    carry1, carry2, hist, vmin, vmax)

    # one metric a task, taken on demand; a prange over metrics left
    # OpenMP's threads spinning after each fold, in the engine's way
    run_blocks(task, block.shape[1], block=1)
