"""The ``msp-sim`` console script: Ctrl-C ends it quietly at any moment, even while the
program loads (pydantic, scipy, numba and matplotlib take about a second).

Nothing heavy is imported here or by ``import simulator``; :mod:`simulator.cli`
is imported inside the handler, and :func:`simulator.cli.main` handles every
signal and mistake from then on.
"""

from __future__ import annotations

import sys

__all__ = ["console_main"]

EXIT_INTERRUPTED = 130


def console_main() -> None:
    """Load :mod:`simulator.cli` and run it (:func:`simulator.cli.console_main`)."""
    try:
        from .cli import console_main as run
    except KeyboardInterrupt:
        print("\ninterrupted; nothing written", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    run()
