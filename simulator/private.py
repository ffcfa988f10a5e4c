"""Folders and files no other user can plant or swap: checkpoints, Dask workers' numba
caches, output locks.

A private folder is a real directory (not a symbolic link) owned by this user with no
permission for anyone else (mode 0700); one that exists otherwise is refused, never
followed or reused. Files in it are opened relative to the folder's descriptor with
``O_NOFOLLOW`` (and ``O_EXCL`` when created), so a link planted in place of a file is an
error, not a path written through.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["PrivacyError", "check_own_file", "is_own_dir", "is_private_dir", "open_private_dir",
           "private_dir", "user_cache_dir"]


class PrivacyError(OSError):
    """A folder or file that should be this user's alone is not (a link, another user's,
    open to others): named, with what is allowed."""


def _problem(st: os.stat_result, want_dir: bool) -> str | None:
    """Why a file of this status is not this user's alone, or ``None``."""
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if want_dir and not stat.S_ISDIR(st.st_mode):
        return "is not a directory"
    if not want_dir and not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_uid != os.geteuid():
        return f"belongs to another user (uid {st.st_uid})"
    if want_dir and stat.S_IMODE(st.st_mode) & 0o077:
        return f"is open to other users (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def is_private_dir(path: str | Path) -> bool:
    """Whether ``path`` is a directory of this user's alone (not a link)."""
    try:
        return _problem(os.lstat(path), want_dir=True) is None
    except OSError:
        return False


def is_own_dir(path: str | Path, forbidden_mode: int) -> bool:
    """Whether ``path`` is a directory (not a link) of this user's with none of the
    permission bits in ``forbidden_mode`` (``0o022``: no one else may write to it;
    ``0o002``: not world-writable)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()
            and not stat.S_IMODE(st.st_mode) & forbidden_mode)


def check_own_file(path: str | Path, st: os.stat_result) -> None:
    """Refuse a file (its ``lstat`` or ``fstat``) that is a link, not a regular file, or
    another user's."""
    why = _problem(st, want_dir=False)
    if why is not None:
        raise PrivacyError(f"{path}: {why}; allowed: a regular file of yours (remove it "
                           "if it is not)")


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (mode 0700; missing parents with the usual mode) or check that the
    existing one is this user's alone; return it.

    Raises
    ------
    PrivacyError
        ``path`` is a link, not a directory, another user's or open to others.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    why = _problem(os.lstat(path), want_dir=True)
    if why is not None:
        raise PrivacyError(f"{path}: {why}; allowed: a directory of yours with mode 0700 "
                           "(remove it, and msp-sim makes a new one)")
    return path


def open_private_dir(path: str | Path) -> int:
    """:func:`private_dir`, then a descriptor of it opened without following a link and
    checked again (so the folder checked is the folder used)."""
    path = private_dir(path)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    why = _problem(os.fstat(fd), want_dir=True)
    if why is not None:  # pragma: no cover - swapped between the check and the open
        os.close(fd)
        raise PrivacyError(f"{path}: {why}; allowed: a directory of yours with mode 0700")
    return fd


def user_cache_dir(*parts: str) -> Path:
    """A private folder under this user's cache directory (``$XDG_CACHE_HOME`` or
    ``~/.cache``), ``msp-sim/<parts...>``; each level made 0700 and checked."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    path = private_dir(Path(base) / "msp-sim")
    for part in parts:
        path = private_dir(path / part)
    return path
