"""Memory a run will need, estimated before it starts, and the memory it may use.

Light on purpose (no numba, scipy or engine import): the command line checks
every run against :func:`memory_limit` before simulating and refuses, with
the estimate and the limit, what would not fit, instead of failing with
``MemoryError`` (or being killed) half way.
"""

from __future__ import annotations

import os

from .model.metrics import METRICS

__all__ = ["BASELINE_BYTES", "check_memory", "memory_limit", "run_bytes"]

KEEP_PATHS_LIMIT = 200_000  # simulator.results.KEEP_PATHS_LIMIT (tests check they agree)
CHUNK_SIZE = 8192  # simulator.api.DEFAULT_CHUNK_SIZE
PILOT_PATHS = 8192  # simulator.results.monthly_stats.PILOT_PATHS
BINS = 2048  # simulator.results.monthly_stats.DEFAULT_BINS
BASELINE_BYTES = 400_000_000
"""The interpreter with numpy, scipy, numba and matplotlib loaded (~300 MB), and the
report's figures."""


def run_bytes(n_paths: int, months: int, keep_paths: bool | None = None,
              chunk_size: int | None = None) -> int:
    """Estimated memory of one run beyond the interpreter, in bytes.

    Kept trajectories are ``n_paths x len(METRICS) x (months + 1)`` float64
    (10.7 GB per million paths over 60 months) plus the parameters and two
    metrics' worth of copies (quantiles, ``paths.npz``); otherwise twice one
    chunk's buffer, the per-month statistics and 16 bytes a path.
    """
    from .config.schema import param_specs

    if keep_paths is None:
        keep_paths = n_paths <= KEEP_PATHS_LIMIT
    per_metric = 8 * n_paths * (months + 1)
    first = 16 * n_paths
    if keep_paths:
        return (per_metric * (len(METRICS) + 2) + 8 * n_paths * len(param_specs())
                + first)
    chunk = max(CHUNK_SIZE if chunk_size is None else chunk_size, PILOT_PATHS)
    buffer = 8 * min(chunk, n_paths) * len(METRICS) * (months + 1)
    stats = len(METRICS) * (months + 1) * (4 * (BINS + 2) + 24)
    return 2 * buffer + stats + first


def memory_limit() -> int:
    """The memory a run may use, in bytes: ``MSP_SIM_MEMORY_LIMIT`` (bytes, or with a
    K/M/G suffix) if set, else the system's available memory (``MemAvailable``)."""
    text = os.environ.get("MSP_SIM_MEMORY_LIMIT", "").strip().upper().removesuffix("B")
    if text:
        scale = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}.get(text[-1:], 1.0)
        try:
            return int(float(text.rstrip("KMGT")) * scale)
        except ValueError:
            pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):  # pragma: no cover - no way to know: do not refuse
        return 2**62


def check_memory(need: int, what: str, source: str = "--paths", hint: str = "fewer paths"
                 ) -> None:
    """Refuse up front (a ConfigError naming ``source``) what would not fit in memory.

    ``need`` is an estimate such as :func:`run_bytes` (summed over what is
    held at once); ``what`` says what it is for, e.g. ``"2 scenarios x
    1,000,000 paths x 60 months"``.
    """
    from .config import ConfigError

    limit = memory_limit()
    total = need + BASELINE_BYTES
    if total > limit:
        raise ConfigError(source, [("", None, f"{what} would need about {total / 1e9:.1f} GB "
                                    f"of memory, more than the {limit / 1e9:.1f} GB available "
                                    "(MSP_SIM_MEMORY_LIMIT, or the system's available memory); "
                                    f"allowed: {hint}")])
