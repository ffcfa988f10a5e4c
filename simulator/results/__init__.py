"""What a run gives: the result (:mod:`.result`), the time to the threshold and the
chances with their intervals (:mod:`.survival`), its per-month statistics of runs past
the trajectory limit (:mod:`.monthly_stats`) and the numbers read off a run."""

from .result import (
    DEFAULT_QUANTILES,
    KEEP_PATHS_LIMIT,
    REPORT_MONTHS,
    TIME_QUANTILES,
    SimulationResult,
    config_sha256,
    package_version,
    require_pandas,
)
from .survival import CONFIDENCE, Estimate, TimeToThreshold, proportion

__all__ = ["CONFIDENCE", "DEFAULT_QUANTILES", "KEEP_PATHS_LIMIT", "REPORT_MONTHS",
           "TIME_QUANTILES", "Estimate", "SimulationResult", "TimeToThreshold",
           "config_sha256", "package_version", "proportion", "require_pandas"]
