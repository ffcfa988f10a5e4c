"""The one progress bar of every simulating function."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["progress_bar", "progress_callback"]


class _NoBar:
    """The progress bar of a run without one."""

    total: int | None = None

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def update(self, _n: int) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def progress_bar(total: int | None, progress: bool | None, desc: str = "simulating",
                 unit: str = "path") -> Any:
    """The progress bar of every simulating function: a tqdm bar when ``progress`` is
    true, or when it is ``None`` and stderr is a terminal (and ``MSP_SIM_NO_PROGRESS``
    is not set); otherwise one that shows nothing (without importing tqdm, whose
    ``tqdm.auto`` imports asyncio: ~20 ms of a warm start for a bar nobody sees)."""
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("MSP_SIM_NO_PROGRESS")
    if not progress:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc=desc, leave=False)


def progress_callback(progress: Callable[[int, int], None] | bool | None, total: int,
                      desc: str = "simulating") -> Callable[[int | None], None]:
    """``report(done)`` as work finishes, ``report(None)`` at the end: a user's
    ``progress(done, total)``, a progress bar (``True``; ``None``: when stderr is a
    terminal), or nothing."""
    if callable(progress):
        def call(done: int | None) -> None:
            if done is not None:
                progress(done, total)
        return call
    bar = progress_bar(total, progress, desc=desc)
    shown = 0

    def update(done: int | None) -> None:
        nonlocal shown
        if done is None:
            bar.close()
        else:
            bar.update(done - shown)
            shown = done
    return update
