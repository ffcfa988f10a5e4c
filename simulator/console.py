"""The ``msp-sim`` console script: Ctrl-C ends it quietly at any moment, even while the
program loads (pydantic, scipy, numba and matplotlib take about a second).

Nothing heavy is imported here or by ``import simulator``; :mod:`simulator.cli`
is imported inside the handler, and :func:`simulator.cli.main` handles every
signal and mistake from then on. While the imports run, asynchronous signals are held
(blocked, not lost) and delivered once they are done: an interrupt that landed inside an
extension module's own import (pydantic-core's Rust start-up turns it into a panic) then
reaches this handler as a plain KeyboardInterrupt.
"""

from __future__ import annotations

import signal
import sys

__all__ = ["console_main"]

EXIT_INTERRUPTED = 130


# signals raised by the system on a fault of the running thread: never held
_SYNCHRONOUS = {"SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGSYS", "SIGABRT"}


def _held_signals() -> set[signal.Signals]:
    """The asynchronous signals (Ctrl-C, termination, timers, ...) held during the imports."""
    return {s for s in signal.valid_signals()
            if isinstance(s, signal.Signals) and s.name not in _SYNCHRONOUS
            and s not in (signal.SIGKILL, signal.SIGSTOP)}


def console_main() -> None:
    """Load :mod:`simulator.cli` and run it (:func:`simulator.cli.console_main`)."""
    hold = hasattr(signal, "pthread_sigmask")
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, _held_signals()) if hold else set()
        try:
            from .cli import console_main as run
        finally:
            if hold:
                # a signal held meanwhile is delivered here and its handler runs at once
                signal.pthread_sigmask(signal.SIG_SETMASK, before)
    except KeyboardInterrupt:
        print("\ninterrupted; nothing written", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    run()
