"""msp-sim: Monte Carlo revenue-growth simulator for managed IT service providers.

Typical use::

    import simulator
    cfg = simulator.load_config("configs/baseline.toml")
    res = simulator.simulate(cfg, n_paths=10_000, seed=1)
    print(res.format_summary())
"""

from __future__ import annotations

# not even :mod:`typing` at import: ``import simulator`` stays instant, and the console
# script's Ctrl-C guard comes right after it (type checkers take TYPE_CHECKING as true)
TYPE_CHECKING = False
if TYPE_CHECKING:  # imported on first use
    from typing import Any

    from .config import Config, ConfigError, load_config
    from .config.shipped import shipped_config
    from .runner import RunOptions

__all__ = [
    "Config",
    "ConfigError",
    "RunOptions",
    "__version__",
    "compare",
    "explore",
    "goal_seek",
    "lever_scan",
    "load_config",
    "sensitivity",
    "simulate",
    "shipped_config",
    "simulate_to_precision",
]

_ANALYSIS = ("compare", "goal_seek", "lever_scan", "sensitivity", "simulate_to_precision")
_CONFIG = ("Config", "ConfigError", "load_config")


def __getattr__(name: str) -> Any:
    """The config layer and the analyses, imported on first use (pydantic, scipy and
    numba take a while to load; ``msp-sim`` answers Ctrl-C meanwhile)."""
    if name == "__version__":
        from .version import package_version

        return package_version()
    if name in _CONFIG:
        from . import config

        return getattr(config, name)
    if name == "shipped_config":
        from .config.shipped import shipped_config

        return shipped_config
    if name == "RunOptions":
        from .runner import RunOptions

        return RunOptions
    if name in _ANALYSIS:
        from . import analysis

        return getattr(analysis, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def explore(*args, **kwargs):
    """The interactive explorer in a notebook cell; see :func:`simulator.explorer.explore`
    (needs Panel: ``pip install 'msp-sim[explore]'``)."""
    from .explorer import explore as _explore

    return _explore(*args, **kwargs)


def simulate(*args, **kwargs):
    """Run a simulation; see :func:`simulator.api.simulate` (imports numba lazily)."""
    from .api import simulate as _simulate

    return _simulate(*args, **kwargs)
