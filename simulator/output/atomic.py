"""Writing a file or a directory whole or not at all: the atomic steps every output uses."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import uuid
from pathlib import Path

__all__ = ["OutputDirError", "current_umask", "make_parents", "move_into_place",
           "write_text_atomic"]


class OutputDirError(ValueError):
    """The output directory cannot be used (a file, holds files msp-sim did not write,
    busy, not writable, too little space) or could not be written."""


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` whole or not at all (a temporary file beside it,
    then renamed over it); missing parent directories are created.

    Raises
    ------
    OutputDirError
        The file cannot be written there (the path and the system's reason).
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        make_parents(path.parent)
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OutputDirError(f"{path}: cannot write it ({exc.strerror or exc}); allowed: a "
                             "path in a directory you can write to") from None
    return path


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_parents(parent: Path) -> list[Path]:
    """Create ``parent`` and missing ancestors; return those created, outermost first."""
    missing = []
    p = parent
    while not p.exists():
        missing.append(p)
        p = p.parent
    parent.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def move_into_place(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out`` (an earlier ``out`` moved aside, then removed); signals
    that would stop the program wait until both renames are done."""
    blocked = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        if not (out.exists() or out.is_symlink()):
            os.replace(tmp, out)
            return
        backup = out.parent / f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        os.replace(out, backup)
        try:
            os.replace(tmp, out)
        except BaseException:
            os.replace(backup, out)
            raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    if backup.is_dir() and not backup.is_symlink():
        shutil.rmtree(backup, ignore_errors=True)
    else:
        backup.unlink(missing_ok=True)
