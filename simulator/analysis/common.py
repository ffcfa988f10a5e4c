"""What the analyses share: the confidence level, a mean's interval and the optional pandas
import (:func:`simulator.results.require_pandas`)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..formatting import finite_or_none
from ..results import require_pandas

__all__ = ["CONFIDENCE", "mean_ci", "require_pandas"]

CONFIDENCE = 0.95
"""Level of every interval the analyses report."""


def mean_ci(x: np.ndarray) -> list[float | None]:
    """Student-t 95% CI of the mean (a point when every value is the same)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2 or np.all(x == x[0]):
        return [finite_or_none(x.mean()), finite_or_none(x.mean())]
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(CONFIDENCE)
    return [finite_or_none(ci.low), finite_or_none(ci.high)]
