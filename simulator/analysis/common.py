"""What the analyses share: the confidence level, a mean's interval and the optional pandas
import (:func:`simulator.results.require_pandas`)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from scipy import stats

from ..formatting import finite_or_none
from ..results import CONFIDENCE, KEEP_PATHS_LIMIT, SimulationResult, require_pandas

__all__ = ["CONFIDENCE", "JsonResult", "mean_ci", "require_pandas", "run_params"]



def mean_ci(x: np.ndarray) -> list[float | None]:
    """Student-t 95% CI of the mean (a point when every value is the same)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2 or np.all(x == x[0]):
        return [finite_or_none(x.mean()), finite_or_none(x.mean())]
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(CONFIDENCE)
    return [finite_or_none(ci.low), finite_or_none(ci.high)]


def run_params(result: SimulationResult) -> np.ndarray:
    """A run's per-path parameters: kept with its trajectories, or by a run of outcomes
    only (here or on Dask) of at most :data:`~simulator.results.KEEP_PATHS_LIMIT` paths.

    Raises
    ------
    ValueError
        The run kept none (more paths than that).
    """
    if result.params is None:
        raise ValueError(f"n_paths: got {result.n_paths:,} in one run; allowed: at most "
                         f"{KEEP_PATHS_LIMIT:,} (what keeps every path's parameters)")
    return result.params


class JsonResult:
    """What every analysis result has: :meth:`to_json`, its ``to_dict()`` as JSON text."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (a number that is not finite is refused)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)
