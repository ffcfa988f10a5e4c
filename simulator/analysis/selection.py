"""Ranking and selection among simulated designs on common random numbers: the
optimal computing budget allocation (OCBA; Chen, Lin, Yucesan & Chick 2000), the
design that beats every other by the largest worst margin, and P(correct selection)
by the Bonferroni bound over paired differences (:func:`simulator.analysis.plan.
plan_search` uses them on its finalists)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

__all__ = ["ocba_allocation", "ocba_sample", "probability_correct_selection", "select_best"]


def ocba_allocation(means: np.ndarray, sds: np.ndarray, total: int,
                    minimum: np.ndarray | None = None) -> np.ndarray:
    """OCBA's share of ``total`` paths among designs (Chen, Lin, Yucesan & Chick 2000),
    maximizing the best: ``N_i / N_j = (s_i / d_i)^2 / (s_j / d_j)^2`` for non-best
    designs (``d`` the gap to the best), ``N_b = s_b sqrt(sum_i N_i^2 / s_i^2)``.
    Integer counts summing to ``total`` (at least ``minimum`` each, when given)."""
    means = np.asarray(means, dtype=np.float64)
    sds = np.maximum(np.asarray(sds, dtype=np.float64), 1e-12 * (1 + np.abs(means).max()))
    k = means.size
    b = int(np.argmax(means))
    gap = np.maximum(means[b] - means, 1e-9 * (1 + np.abs(means).max()))
    ratio = (sds / gap) ** 2
    ratio[b] = 0.0
    others = np.arange(k) != b
    ratio[b] = sds[b] * math.sqrt(float(np.sum(ratio[others] ** 2 / sds[others] ** 2)))
    share = ratio / ratio.sum()
    alloc = np.floor(share * total).astype(np.int64)
    if minimum is not None:  # what is already spent: a design never loses paths
        alloc = np.maximum(alloc, np.asarray(minimum, dtype=np.int64))
    return alloc


def ocba_sample(values: Callable[[], list[np.ndarray]],
                extend: Callable[[Sequence[int]], None], extra_total: int,
                rounds: int) -> None:
    """Spend ``extra_total`` more paths on designs by OCBA in ``rounds`` rounds.

    ``values()`` gives each design's per-path values so far (a prefix of the common
    paths); ``extend(targets)`` brings design ``i`` to ``targets[i]`` paths.
    """
    for r in range(rounds):
        current = values()
        if len(current) < 2 or extra_total <= 0:
            return
        have = np.array([v.size for v in current])
        step = extra_total * (r + 1) // rounds - extra_total * r // rounds
        alloc = ocba_allocation(np.array([v.mean() for v in current]),
                                np.array([v.std(ddof=1) for v in current]),
                                int(have.sum()) + step, have)
        extend([int(a) for a in alloc])


def _common_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = min(a.size, b.size)
    return a[:n] - b[:n]


def select_best(values: Sequence[np.ndarray]) -> int:
    """The design whose worst paired difference with any other (over the paths the two
    share, common random numbers) is largest: the one that beats every other when one
    does, whatever extra paths OCBA gave some of them."""
    def worst(i: int) -> float:
        return min((float(_common_difference(values[i], v).mean())
                    for j, v in enumerate(values) if j != i), default=0.0)

    return max(range(len(values)), key=worst)


def probability_correct_selection(values: Sequence[np.ndarray], best: int,
                                  indifference: float = 0.0) -> float:
    """P(the chosen design is the best, or within ``indifference`` of it) by the
    Bonferroni bound over paired differences: ``1 - sum_j P(design j beats it by more
    than the indifference)``, each ``Phi(-(mean(d_j) + indifference) / se(d_j))`` over
    the paths the two share (common random numbers); clipped to [0, 1]."""
    miss = 0.0
    for j, v in enumerate(values):
        if j == best:
            continue
        d = _common_difference(values[best], v)
        se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0
        mean = float(d.mean()) + indifference
        miss += (0.0 if mean > 0 else 1.0) if se == 0 else float(stats.norm.sf(mean / se))
    return float(min(1.0, max(0.0, 1.0 - miss)))
