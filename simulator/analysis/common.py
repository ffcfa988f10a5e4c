"""What the analyses share: JSON text, a mean's interval and the optional pandas
import (their output directories are :mod:`simulator.output`'s)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from scipy import stats

from ..formatting import finite_or_none

__all__ = ["CONFIDENCE", "json_text", "mean_ci", "require_pandas"]

CONFIDENCE = 0.95
"""Level of every interval the analyses report."""


def json_text(data: Any) -> str:
    """Indented JSON (no NaN/Infinity) with a final newline."""
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def mean_ci(x: np.ndarray) -> list[float | None]:
    """Student-t 95% CI of the mean (a point when every value is the same)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2 or np.all(x == x[0]):
        return [finite_or_none(x.mean()), finite_or_none(x.mean())]
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(CONFIDENCE)
    return [finite_or_none(ci.low), finite_or_none(ci.high)]


def require_pandas() -> Any:
    """The pandas module, or an ImportError that says how to get it."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_frame() needs pandas, an optional dependency of msp-sim: "
                          "pip install pandas") from None
    return pd
