"""The installed msp-sim version, in a module of its own (no imports of the package).

Read on first use: importing :mod:`importlib.metadata` and scanning the installed
distributions takes a while, and ``import simulator`` (which the ``msp-sim`` console
script runs before its Ctrl-C guard) must stay instant.
"""

from __future__ import annotations

import functools

__all__ = ["code_identity", "package_version"]  # and __version__, read on first use


@functools.cache
def package_version() -> str:
    """The installed msp-sim version, ``"0+unknown"`` when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("msp-sim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


@functools.cache
def code_identity() -> tuple[str, str]:
    """``(version, sha256 of every source file of the package)``: what a Dask worker must
    share with its client to give the client's answer (see ``simulator._dask_plugin``)."""
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return package_version(), digest.hexdigest()


def __getattr__(name: str) -> str:
    if name == "__version__":
        return package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
