"""What a run gives: the result (:mod:`.result`), its per-month statistics of runs past
the trajectory limit (:mod:`.monthly_stats`) and the numbers read off a run."""

from .result import (
    DEFAULT_QUANTILES,
    KEEP_PATHS_LIMIT,
    REPORT_MONTHS,
    TIME_QUANTILES,
    Estimate,
    SimulationResult,
    TimeToThreshold,
    config_sha256,
    package_version,
    require_pandas,
)

__all__ = ["DEFAULT_QUANTILES", "KEEP_PATHS_LIMIT", "REPORT_MONTHS", "TIME_QUANTILES",
           "Estimate", "SimulationResult", "TimeToThreshold", "config_sha256",
           "package_version", "require_pandas"]
