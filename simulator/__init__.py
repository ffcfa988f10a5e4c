"""msp-sim: Monte Carlo revenue-growth simulator for managed IT service providers.

Typical use::

    import simulator
    cfg = simulator.load_config("configs/baseline.toml")
    res = simulator.simulate(cfg, n_paths=10_000, seed=1)
    print(res.format_summary())
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .config import Config, ConfigError, load_config

try:
    __version__ = version("msp-sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["Config", "ConfigError", "__version__", "load_config", "simulate"]


def simulate(*args, **kwargs):
    """Run a simulation; see :func:`simulator.api.simulate` (imports numba lazily)."""
    from .api import simulate as _simulate

    return _simulate(*args, **kwargs)
