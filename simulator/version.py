"""The installed msp-sim version, in a module of its own (no imports of the package)."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__", "code_identity", "package_version"]

try:
    __version__: str = version("msp-sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def package_version() -> str:
    """The installed msp-sim version, ``"0+unknown"`` when it is not installed."""
    return __version__


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
    return __version__, digest.hexdigest()
