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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine._accumulate import accumulate

__all__ = ["DEFAULT_BINS", "PILOT_PATHS", "MonthlyStats"]

DEFAULT_BINS = 2048
PILOT_PATHS = 8192
"""A statistics-only run's first chunk: these paths fix the bins and the shift."""


@dataclass
class MonthlyStats:
    """Running statistics of ``(metric, month)`` cells.

    Attributes
    ----------
    names : tuple of str
        Metric names, in the order of the second axis of the chunks.
    count : int
        Paths folded in so far.
    shift, sum1, sum2 : ndarray, shape (metrics, months + 1)
        The first chunk's mean and the running sums of ``x - shift`` and of
        its square.
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
            sum2=np.zeros(shape), hist=np.zeros((*shape, bins + 2), dtype=np.int32), lo=lo,
            width=width, vmin=np.full(shape, np.inf), vmax=np.full(shape, -np.inf),
        )
        stats.add(block)
        return stats

    def add(self, block: np.ndarray) -> None:
        """Fold a chunk ``(paths, metrics, months + 1)`` in."""
        accumulate(block, self.shift, self.lo, 1.0 / self.width, self.sum1, self.sum2,
                   self.hist, self.vmin, self.vmax)
        self.count += block.shape[0]

    @property
    def n(self) -> int:
        return int(self.count)

    @property
    def mean(self) -> np.ndarray:
        """Mean over paths, shape ``(metrics, months + 1)``."""
        return self.shift + self.sum1 / self.n

    @property
    def m2(self) -> np.ndarray:
        """Sum of squared deviations from the mean, shape ``(metrics, months + 1)``."""
        return np.maximum(self.sum2 - self.sum1**2 / self.n, 0.0)

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
