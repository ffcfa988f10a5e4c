"""The installed msp-sim version, in a module of its own (no imports of the package)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__", "package_version"]

try:
    __version__: str = version("msp-sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def package_version() -> str:
    """The installed msp-sim version, ``"0+unknown"`` when it is not installed."""
    return __version__
