"""Memory a run will need, estimated before it starts, and the memory it may use.

Light on purpose (no numba, scipy or engine import): the command line checks
every run against :func:`memory_limit` before simulating and refuses, with
the estimate and the limit, what would not fit, instead of failing with
``MemoryError`` (or being killed) half way.
"""

from __future__ import annotations

import os
import re

from .model.metrics import METRICS

__all__ = ["BASELINE_BYTES", "check_memory", "memory_limit", "parse_bytes", "result_bytes",
           "run_bytes"]

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
    return 2 * buffer + result_bytes(n_paths, months)


def result_bytes(n_paths: int, months: int) -> int:
    """What a finished run without trajectories holds: its per-month statistics and 16
    bytes a path (first passage and insolvency month)."""
    return len(METRICS) * (months + 1) * (4 * (BINS + 2) + 24) + 16 * n_paths


_LIMIT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(I?)B?", re.IGNORECASE)


def parse_bytes(text: str) -> int:
    """Bytes of a size such as ``"8000000000"``, ``"8G"``, ``"8GB"`` (powers of 1000) or
    ``"8GiB"`` (powers of 1024).

    Raises
    ------
    ValueError
        Not such a size (the text and what is allowed).
    """
    match = _LIMIT.fullmatch(text.strip())
    if match is None or not match.group(2) and match.group(3):
        raise ValueError(f'"{text}": not a size; allowed: bytes, or a number with K, M, G '
                         "or T (powers of 1000, e.g. 8G or 8GB) or KiB, MiB, GiB, TiB "
                         "(powers of 1024, e.g. 8GiB)")
    number, unit, binary = match.groups()
    power = "KMGT".find(unit.upper()) + 1 if unit else 0
    return int(float(number) * (1024 if binary else 1000) ** power)


def memory_limit() -> int:
    """The memory a run may use, in bytes: ``MSP_SIM_MEMORY_LIMIT`` (:func:`parse_bytes`:
    bytes, ``8G``, ``8GB``, ``8GiB``) if set, else the system's available memory
    (``MemAvailable``).

    Raises
    ------
    ConfigError
        ``MSP_SIM_MEMORY_LIMIT`` is set but not a size (never silently ignored).
    """
    text = os.environ.get("MSP_SIM_MEMORY_LIMIT", "").strip()
    if text:
        from .config import ConfigError

        try:
            return parse_bytes(text)
        except ValueError as exc:
            raise ConfigError("MSP_SIM_MEMORY_LIMIT", [("", None, str(exc))]) from None
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


def check_memory(need: int, what: str, source: str = "paths", hint: str = "fewer paths"
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
