"""Per-month quantiles of kept trajectories: ``np.quantile(..., axis=0)``'s numbers, faster.

``np.quantile`` (method ``"linear"``) partitions each column at every rank
it needs (7 quantiles: 14 ranks) with numpy's multi-``kth`` partition, which
costs about as much as sorting the column (~25 ns a value on the project's
VM; a quickselect that goes on only into the parts holding a needed rank
measured the same: its branches are unpredictable). Here each column is
counted into a histogram of equal bins between its extremes; only the few
bins that hold a needed rank are gathered and selected among (~3 passes
over the column: about a third of ``np.quantile``'s time). The
interpolation between the order statistics is numpy's own arithmetic
(``numpy/lib/_function_base_impl.py``: index ``(n - 1) q``, ``_get_indexes``,
``_lerp``), so the results equal ``np.quantile``'s bit for bit
(``tests/test_results.py``); a column holding a NaN is left to numpy.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit
def _select(a, ranks, stack):
    """Reorder ``a`` so that ``a[r]`` is its ``r``-th smallest value for every ``r`` of
    the sorted, distinct ``ranks``; ``stack`` is int64 scratch of shape ``(len(ranks) + 1, 4)``."""
    top = 0
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = 0, a.size - 1, 0, ranks.size
    while top >= 0:
        lo, hi, rlo, rhi = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
        top -= 1
        while rlo < rhi and lo < hi:
            if hi - lo < 16:  # insertion sort of a short part
                for i in range(lo + 1, hi + 1):
                    x = a[i]
                    j = i - 1
                    while j >= lo and a[j] > x:
                        a[j + 1] = a[j]
                        j -= 1
                    a[j + 1] = x
                break
            mid = (lo + hi) // 2  # median of three as the pivot
            if a[mid] < a[lo]:
                a[mid], a[lo] = a[lo], a[mid]
            if a[hi] < a[lo]:
                a[hi], a[lo] = a[lo], a[hi]
            if a[hi] < a[mid]:
                a[hi], a[mid] = a[mid], a[hi]
            pivot = a[mid]
            i, j = lo, hi
            while i <= j:  # Hoare's partition: a[lo..j] <= pivot <= a[i..hi]
                while a[i] < pivot:
                    i += 1
                while a[j] > pivot:
                    j -= 1
                if i <= j:
                    a[i], a[j] = a[j], a[i]
                    i += 1
                    j -= 1
            # a[j+1..i-1] all equal the pivot: those ranks are placed
            r_left = rlo
            while r_left < rhi and ranks[r_left] <= j:
                r_left += 1
            r_right = r_left
            while r_right < rhi and ranks[r_right] < i:
                r_right += 1
            if r_left > rlo:
                top += 1
                stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = lo, j, rlo, r_left
            lo, rlo = i, r_right


@jit
def _order_statistics(row, ranks, counts, slot, cand, stack, values):
    """``values[k]`` = the ``ranks[k]``-th smallest value of ``row`` (sorted, distinct
    ``ranks``); False if ``row`` holds a NaN.

    A histogram of ``counts.size`` equal bins between the row's extremes (the
    bin index is monotone in the value) tells which bins hold the ranks; only
    those bins' values are gathered (into ``cand``) and selected among.
    """
    n = row.size
    lo = row[0]
    hi = row[0]
    for i in range(n):
        x = row[i]
        if np.isnan(x):
            return False
        lo = min(lo, x)
        hi = max(hi, x)
    n_bins = counts.size
    scale = n_bins / (hi - lo) if hi > lo else 0.0
    if not (0.0 < scale < np.inf):  # one value, or a range that over/underflows
        _select(row, ranks, stack)
        for k in range(ranks.size):
            values[k] = row[ranks[k]]
        return True
    counts[:] = 0
    for i in range(n):
        b = int((row[i] - lo) * scale)
        counts[b if b < n_bins else n_bins - 1] += 1
    # bins holding a rank, in order; slot[b]: the bin's first place in cand, or -1
    slot[:] = -1
    below = 0  # values in the bins before b
    k = 0
    used = 0
    for b in range(n_bins):
        if k < ranks.size and ranks[k] < below + counts[b]:
            slot[b] = used
            used += counts[b]
            while k < ranks.size and ranks[k] < below + counts[b]:
                k += 1
        below += counts[b]
    fill = slot.copy()
    for i in range(n):
        x = row[i]
        b = int((x - lo) * scale)
        if b >= n_bins:
            b = n_bins - 1
        if slot[b] >= 0:
            cand[fill[b]] = x
            fill[b] += 1
    # select within each bin, ranks shifted to the bin's first value
    below = 0
    k = 0
    for b in range(n_bins):
        if slot[b] >= 0:
            first = k
            while k < ranks.size and ranks[k] < below + counts[b]:
                k += 1
            part = cand[slot[b]:slot[b] + counts[b]]
            local = ranks[first:k] - below
            _select(part, local, stack)
            for j in range(first, k):
                values[j] = part[ranks[j] - below]
        below += counts[b]
    return True


@jit
def _row_quantiles(rows, ranks, previous, following, gamma, out):
    """Quantiles of each row of ``rows`` into ``out[:, row]``: the order statistics
    ``ranks`` (``previous`` and ``following`` index them), then numpy's ``_lerp``;
    False at the first row holding a NaN."""
    n_bins = 2048
    counts = np.empty(n_bins, dtype=np.int64)
    slot = np.empty(n_bins, dtype=np.int64)
    cand = np.empty(rows.shape[1])
    stack = np.empty((ranks.size + 1, 4), dtype=np.int64)
    values = np.empty(ranks.size)
    for t in range(rows.shape[0]):
        if not _order_statistics(rows[t], ranks, counts, slot, cand, stack, values):
            return False
        for k in range(gamma.size):
            a = values[previous[k]]
            b = values[following[k]]
            g = gamma[k]
            diff = b - a
            out[k, t] = b - diff * (1 - g) if g >= 0.5 else a + diff * g  # numpy's _lerp
    return True


def column_quantiles(values: np.ndarray, qs) -> np.ndarray | None:
    """``np.quantile(values, qs, axis=0)`` of a 2-D array ``(paths, columns)``, shape
    ``(len(qs), columns)``, or None if a column holds a NaN (left to numpy)."""
    q = np.asarray(qs, dtype=np.float64).ravel()
    n = values.shape[0]
    # numpy's "linear" method: virtual index (n - 1) q, its floor and the next one,
    # both clamped to the last value at or past it; weight = index - floor
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    previous = previous.astype(np.intp)
    following = following.astype(np.intp)
    gamma = np.asarray(virtual - previous, dtype=np.float64)
    previous[previous < 0] += n
    following[following < 0] += n
    ranks = np.unique(np.concatenate((previous, following))).astype(np.int64)
    rows = np.array(values.T, dtype=np.float64, order="C")  # a copy, one column a row
    out = np.empty((q.size, rows.shape[0]))
    if not _row_quantiles(rows, ranks, np.searchsorted(ranks, previous),
                          np.searchsorted(ranks, following), gamma, out):
        return None
    return out
