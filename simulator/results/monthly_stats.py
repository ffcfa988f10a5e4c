"""Per-month statistics of every metric, accumulated chunk by chunk.

Runs larger than the trajectory limit do not keep every path's trajectory;
instead each chunk is folded into running moments (exact mean and standard
deviation) and a histogram per metric and month whose bins span the range of
the run's first :data:`PILOT_PATHS` paths, widened by half on each side.
Paths are folded in path order, so the statistics do not depend on the
chunking or the number of threads. Quantiles are read off the
histogram by linear interpolation within the bin (so to within one bin
width, ``range / bins``, of the exact sample quantile); values outside the
bins are tracked by exact minimum and maximum.

The sums are taken in blocks of :data:`SUM_BLOCK_PATHS` paths (counted from
the run's first path), each from zero and in path order, and the blocks'
sums are added in block order. A range of paths simulated elsewhere (a Dask
worker) is therefore folded there into a :class:`StatsPartial` (its blocks'
sums, histogram counts and extremes: a few MB instead of its trajectories)
that :meth:`MonthlyStats.merge` adds in path order to the same bits as
folding the trajectories here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..engine import accumulate

__all__ = ["DEFAULT_BINS", "PILOT_PATHS", "SUM_BLOCK_PATHS", "MonthlyStats", "StatsPartial"]

DEFAULT_BINS = 2048
PILOT_PATHS = 8192
"""A statistics-only run's first chunk: these paths fix the bins and the shift."""
SUM_BLOCK_PATHS = 4096
"""Paths per block of the sums (a divisor of :data:`PILOT_PATHS`, so later chunks of
a multiple of it start on a block boundary)."""


@dataclass
class MonthlyStats:
    """Running statistics of ``(metric, month)`` cells.

    Attributes
    ----------
    names : tuple of str
        Metric names, in the order of the second axis of the chunks.
    count : int
        Paths folded in so far.
    shift : ndarray, shape (metrics, months + 1)
        The first chunk's mean.
    sum1, sum2 : ndarray, shape (metrics, months + 1)
        Sums of ``x - shift`` and of its square over the finished blocks of
        :data:`SUM_BLOCK_PATHS` paths.
    carry1, carry2 : ndarray, shape (metrics, months + 1)
        The same sums over the paths of the unfinished block.
    hist : ndarray of int32, shape (metrics, months + 1, bins + 2)
        Counts per bin, with under- and overflow at both ends.
    lo, width : ndarray, shape (metrics, months + 1)
        Left edge and width of the bins.
    vmin, vmax : ndarray, shape (metrics, months + 1)
        Exact extremes.
    """

    names: tuple[str, ...]
    count: int
    shift: np.ndarray
    sum1: np.ndarray
    sum2: np.ndarray
    carry1: np.ndarray
    carry2: np.ndarray
    hist: np.ndarray
    lo: np.ndarray
    width: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray

    @classmethod
    def from_first_chunk(cls, names, block: np.ndarray, bins: int = DEFAULT_BINS
                         ) -> MonthlyStats:
        """Start the statistics with a first chunk ``(paths, metrics, months + 1)``."""
        lo0 = block.min(axis=0)
        hi0 = block.max(axis=0)
        span = hi0 - lo0
        span = np.where(span > 0, span, np.maximum(np.abs(hi0), 1.0))
        lo = lo0 - 0.5 * span
        width = 2.0 * span / bins
        shape = block.shape[1:]
        stats = cls(
            names=tuple(names), count=0, shift=block.mean(axis=0), sum1=np.zeros(shape),
            sum2=np.zeros(shape), carry1=np.zeros(shape), carry2=np.zeros(shape),
            hist=np.zeros((*shape, bins + 2), dtype=np.int32), lo=lo,
            width=width, vmin=np.full(shape, np.inf), vmax=np.full(shape, -np.inf),
        )
        stats.add(block)
        return stats

    def add(self, block: np.ndarray) -> None:
        """Fold a chunk ``(paths, metrics, months + 1)`` in (the run's next paths)."""
        accumulate(block, self.count, SUM_BLOCK_PATHS, self.shift, self.lo, 1.0 / self.width,
                   self.sum1, self.sum2, self.carry1, self.carry2, self.hist, self.vmin,
                   self.vmax)
        self.count += block.shape[0]

    def empty(self) -> MonthlyStats:
        """Statistics of no path with the same bins and shift (what a worker folds into)."""
        shape = self.shift.shape
        return replace(self, count=0, sum1=np.zeros(shape), sum2=np.zeros(shape),
                       carry1=np.zeros(shape), carry2=np.zeros(shape),
                       hist=np.zeros_like(self.hist), vmin=np.full(shape, np.inf),
                       vmax=np.full(shape, -np.inf))

    def partial(self, first: int, stop: int,
                simulate: Callable[[int, int], np.ndarray], max_paths: int) -> StatsPartial:
        """The statistics of the run's paths ``first .. stop - 1``, ready to :meth:`merge`.

        ``simulate(a, b)`` returns the trajectories ``(b - a, metrics, months + 1)``
        of paths ``a .. b - 1``; it is called with at most ``max_paths`` paths
        (rounded down to whole blocks) at a time. Only the bins and the shift
        of ``self`` are used.
        """
        boundary = min(stop, -(-first // SUM_BLOCK_PATHS) * SUM_BLOCK_PATHS)
        # before the first block boundary the paths continue a block begun elsewhere:
        # their trajectories go back as they are, and merge() folds them in order
        head = simulate(first, boundary) if boundary > first else None
        part = self.empty()
        per_call = max(SUM_BLOCK_PATHS, max_paths // SUM_BLOCK_PATHS * SUM_BLOCK_PATHS)
        block_sums = []
        shape = self.shift.shape
        for a in range(boundary, stop, per_call):
            out = simulate(a, min(a + per_call, stop))
            for b in range(0, out.shape[0], SUM_BLOCK_PATHS):
                # each block from zero: a full block's sums land in sum1/sum2
                s1, s2, c1, c2 = (np.zeros(shape) for _ in range(4))
                accumulate(out[b:b + SUM_BLOCK_PATHS], 0, SUM_BLOCK_PATHS, self.shift,
                           self.lo, 1.0 / self.width, s1, s2, c1, c2, part.hist, part.vmin,
                           part.vmax)
                if b + SUM_BLOCK_PATHS <= out.shape[0]:
                    block_sums.append((s1, s2))
                else:  # the run's last, unfinished block
                    part.carry1, part.carry2 = c1, c2
        sums1 = np.array([s for s, _ in block_sums]).reshape(-1, *shape)
        sums2 = np.array([s for _, s in block_sums]).reshape(-1, *shape)
        return StatsPartial(first=first, stop=stop, head=head, block_sum1=sums1,
                            block_sum2=sums2, carry1=part.carry1, carry2=part.carry2,
                            hist=part.hist, vmin=part.vmin, vmax=part.vmax)

    def merge(self, part: StatsPartial) -> None:
        """Fold in a :class:`StatsPartial` of the run's next paths: the same bits as
        :meth:`add` of their trajectories."""
        if part.first != self.count:
            raise ValueError(f"statistics of paths from {part.first} merged after "
                             f"{self.count} paths: partials merge in path order")
        if part.head is not None:
            self.add(part.head)
        # past the head the partial starts on a block boundary, where the carry is empty
        assert part.stop == self.count or self.count % SUM_BLOCK_PATHS == 0
        for s1, s2 in zip(part.block_sum1, part.block_sum2, strict=True):
            self.sum1 += s1
            self.sum2 += s2
        if part.stop > self.count:
            self.carry1, self.carry2 = part.carry1.copy(), part.carry2.copy()
        self.hist += part.hist
        np.minimum(self.vmin, part.vmin, out=self.vmin)
        np.maximum(self.vmax, part.vmax, out=self.vmax)
        self.count = part.stop

    @property
    def n(self) -> int:
        return int(self.count)

    @property
    def mean(self) -> np.ndarray:
        """Mean over paths, shape ``(metrics, months + 1)``."""
        return self.shift + (self.sum1 + self.carry1) / self.n

    @property
    def m2(self) -> np.ndarray:
        """Sum of squared deviations from the mean, shape ``(metrics, months + 1)``."""
        total1 = self.sum1 + self.carry1
        return np.maximum(self.sum2 + self.carry2 - total1**2 / self.n, 0.0)

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"unknown metric {name!r}") from None

    def mean_of(self, name: str) -> np.ndarray:
        """Mean over paths of every month."""
        return self.mean[self._index(name)].copy()

    def std_of(self, name: str) -> np.ndarray:
        """Standard deviation (ddof=1) over paths of every month."""
        return np.sqrt(self.m2[self._index(name)] / max(self.n - 1, 1))

    def quantiles_of(self, name: str, qs) -> np.ndarray:
        """Quantiles ``(len(qs), months + 1)`` read off the histograms."""
        k = self._index(name)
        qs = np.asarray(qs, dtype=np.float64)
        hist = self.hist[k]
        bins = hist.shape[1] - 2
        out = np.empty((qs.size, hist.shape[0]))
        for t in range(hist.shape[0]):
            edges = self.lo[k, t] + self.width[k, t] * np.arange(bins + 1)
            # under/overflow bins stretch to the exact extremes
            xs = np.concatenate(([min(self.vmin[k, t], edges[0])], edges,
                                 [max(self.vmax[k, t], edges[-1])]))
            cum = np.concatenate(([0.0], np.cumsum(hist[t]))) / self.n
            target = np.clip(qs, 0.0, 1.0)
            out[:, t] = np.interp(target, cum, xs)
            out[:, t] = np.clip(out[:, t], self.vmin[k, t], self.vmax[k, t])
        return out


@dataclass
class StatsPartial:
    """The statistics of paths ``first .. stop - 1`` of a run, folded where they were
    simulated (:meth:`MonthlyStats.partial`), to be merged in path order.

    Attributes
    ----------
    head : ndarray or None
        Trajectories of the paths before the first block boundary (they continue a
        block begun before ``first``); None when ``first`` is on a boundary.
    block_sum1, block_sum2 : ndarray, shape (blocks, metrics, months + 1)
        Each finished block's sums, in order.
    carry1, carry2 : ndarray, shape (metrics, months + 1)
        The sums of the unfinished block at the end (zero if none).
    hist, vmin, vmax
        Counts and extremes of the paths after the head.
    """

    first: int
    stop: int
    head: np.ndarray | None
    block_sum1: np.ndarray
    block_sum2: np.ndarray
    carry1: np.ndarray
    carry2: np.ndarray
    hist: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
